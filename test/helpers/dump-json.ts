// `dump --json` as the tests read it, from the types the command writes
// (src/commands/render-stack.ts): a frame with either kind's fields, each one the test
// asserts on rather than narrows to.
import type { FrameJson } from '../../src/commands/render-stack.js';

type NativeFrameJson = Extract<FrameJson, { kind: 'native' }>;
type PythonFrameJson = Exclude<FrameJson, NativeFrameJson>;

export type JsonFrame = { kind: 'python' | 'native'; name: string } & Partial<Omit<NativeFrameJson, 'kind' | 'name'>> &
  Partial<Omit<PythonFrameJson, 'kind' | 'name'>>;
