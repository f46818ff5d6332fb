// The names of `record`'s output formats, apart from the writers: the command line lists
// them without loading any format's code.
export const FORMATS = ['flamegraph', 'speedscope', 'collapsed', 'pprof', 'chrometrace'] as const;
export type Format = (typeof FORMATS)[number];
