// The one normalized shape the reader walks with, whatever the CPython version: byte
// offsets into CPython's structs, sizes, and the few constants the walk needs. 3.8-3.12
// fill it from the generated tables (v3_X.json, scripts/gen-offsets/); 3.13+ from the
// target's own _Py_DebugOffsets plus a handful of facts that table lacks
// (debug-offsets.ts). Field names follow CPython's, without the prefixes. A section or
// field that does not exist in a version is absent.

export interface Layout {
  /** 3.X minor version the layout describes */
  minor: number;
  /** where the numbers came from, for --debug and error messages */
  source: string;

  runtime: {
    /** _PyRuntime.interpreters.head */
    interpretersHead: number;
    /** _PyRuntime.gilstate.tstate_current, the GIL holder up to 3.11 */
    tstateCurrent?: number;
  };
  interp: {
    next: number;
    id: number;
    /** tstate_head (<= 3.10) / threads.head */
    threadsHead: number;
    /** modules (<= 3.11) / imports.modules: the sys.modules dict */
    modules: number;
    /** ceval.gil, a pointer to the _gil_runtime_state in use (3.12+) */
    cevalGil?: number;
    /** threads.main (3.14+) */
    threadsMain?: number;
  };
  /** fields of struct _gil_runtime_state (3.12+) */
  gil?: { lastHolder: number; locked: number };
  tstate: {
    size: number;
    next: number;
    interp: number;
    /** pthread_self() of the thread: threading.get_ident() */
    threadId: number;
    /** kernel TID (3.11+) */
    nativeThreadId?: number;
    /** the PyFrameObject* being run (<= 3.10) */
    frame?: number;
    /** int, non-zero while the thread runs its trace or profile function (<= 3.10) */
    tracing?: number;
    /** _PyCFrame* whose current_frame is the top frame (3.11, 3.12) */
    cframe?: number;
    /** _PyInterpreterFrame* (3.13+) */
    currentFrame?: number;
  };
  cframe?: { currentFrame: number };
  /**
   * PyFrameObject (<= 3.10). A frame is on a thread's chain only while its eval loop runs:
   * f_executing is 1 (3.8, 3.9), f_state is FRAME_EXECUTING (3.10). A frame read after it
   * returned, or from the free list, is not, which is how a torn walk is told (reader.ts).
   */
  frameObject?: {
    size: number;
    back: number;
    code: number;
    lasti: number;
    localsplus: number;
    /** one byte: f_executing (3.8, 3.9) */
    executing?: number;
    /** one byte: f_state (3.10), and its FRAME_EXECUTING value */
    state?: number;
    stateExecuting?: number;
  };
  /** _PyInterpreterFrame (3.11+) */
  iframe?: {
    size: number;
    previous: number;
    /** f_code (3.11, 3.12) / f_executable (3.13+, may be a non-code object) */
    code: number;
    /** prev_instr (3.11, 3.12) / instr_ptr (3.13+) */
    instr: number;
    localsplus: number;
    /** one byte */
    owner: number;
    /**
     * one byte, 3.11 only: set on the first frame each C call into the eval loop pushes;
     * the oldest frame of every thread is one. 3.12+ mark that place with a C-stack shim
     * frame below it instead (skipOwnerFrom).
     */
    isEntry?: number;
    /** frames whose owner is >= this are not Python frames (C-stack shims); absent on 3.11 */
    skipOwnerFrom?: number;
    /** f_executable and localsplus hold _PyStackRef tagged pointers (3.14+) */
    tagged: boolean;
  };
  code: {
    size: number;
    argcount: number;
    kwonlyargcount: number;
    /** co_nlocals (<= 3.10; 3.11+ counts co_localsplusnames) */
    nlocals?: number;
    flags: number;
    firstlineno: number;
    filename: number;
    name: number;
    qualname?: number;
    /** co_lnotab (3.8, 3.9) / co_linetable */
    lineTable: number;
    lineTableFormat: 'lnotab' | 'linetable' | 'locations';
    /** co_varnames (<= 3.10) */
    varnames?: number;
    /** co_cellvars (<= 3.10): the cells that follow the co_nlocals fast locals in f_localsplus */
    cellvars?: number;
    /** co_code, the bytecode bytes object (<= 3.10) */
    bytecode?: number;
    localsplusnames?: number;
    localspluskinds?: number;
    /** co_code_adaptive: the bytecode stored inline in the code object (3.11+) */
    codeAdaptive?: number;
    flagVarargs: number;
    flagVarkeywords: number;
    /** CO_FAST_LOCAL / CO_FAST_CELL bits of co_localspluskinds (3.11+) */
    kindLocal?: number;
    kindCell?: number;
  };
  object: { type: number; size: number };
  type: {
    name: number;
    basicsize: number;
    flags: number;
    dictoffset: number;
    /** PyHeapTypeObject.ht_cached_keys: the shared keys of managed dicts (3.11+) */
    cachedKeys?: number;
    flagManagedDict?: number;
    flagInlineValues?: number;
  };
  /** where objects with Py_TPFLAGS_MANAGED_DICT keep their dict/values, relative to the object (3.11+) */
  managedDict?: { dict?: number; values?: number; dictOrValues?: number; inlineValues?: number };
  tuple: { item: number };
  list: { item: number };
  dict: { used: number; keys: number; values: number };
  dictKeys: {
    /** dk_size (<= 3.10) */
    size?: number;
    log2Size?: number;
    log2IndexBytes?: number;
    kind?: number;
    nentries: number;
    indices: number;
    entrySize: number;
    /** me_hash of a PyDictKeyEntry (the general entry; unicode entries have none) */
    entryHash: number;
    entryKey: number;
    entryValue: number;
    unicodeEntrySize?: number;
    unicodeEntryKey?: number;
    unicodeEntryValue?: number;
  };
  dictValues?: { values: number };
  float: { value: number };
  long: { digits: number; shift: number; tag?: number; nonSizeBits?: number };
  bytes: { data: number };
  unicode: {
    length: number;
    state: number;
    asciiSize: number;
    compactSize: number;
    legacyData: number;
    kindMask: number;
    compactMask: number;
    asciiMask: number;
  };
  cell: { ref: number };
}
