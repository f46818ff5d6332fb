// Frame labels as profilers write them into collapsed stacks and pprof function names,
// split back into [name, location, kind] for the page.

/** spyglass's root frames: `thread 4243 "worker-1"`, `process 17: "python app.py"` */
const THREAD_ROOT = /^thread (\d+|0x[0-9a-f]+)( ".*")?$/;
const PROCESS_ROOT = /^process \d+(: ".*")?$/;
/** spyglass and py-spy: `name (file.py:12)`; pyflame: `/srv/app.py:name:12` */
const NAME_LOCATION = /^(.*) \(([^()]*)\)$/;
const PYFLAME = /^(.*\.py):([^:]+):(\d+)$/;

export function splitLabel(label: string): [string, string, string] {
  if (THREAD_ROOT.test(label)) return [label, '', 'thread'];
  if (PROCESS_ROOT.test(label)) return [label, '', 'process'];
  let m = NAME_LOCATION.exec(label);
  if (m) return [m[1], m[2], 'python'];
  m = PYFLAME.exec(label);
  if (m) return [m[2], `${m[1].slice(m[1].lastIndexOf('/') + 1)}:${m[3]}`, 'python'];
  return [label, '', 'python'];
}

/** Frames interned by their label triple, as a table is built. */
export class FrameInterner {
  readonly frames: Array<[string, string, string]> = [];
  private readonly ids = new Map<string, number>();

  id(frame: [string, string, string]): number {
    const key = frame.join('\0');
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.frames.length;
      this.frames.push(frame);
      this.ids.set(key, id);
    }
    return id;
  }
}
