// The page's style sheet, inlined into the bundle (the page loads nothing else).
export const CSS = `
  body { margin: 0; font: 14px system-ui, sans-serif; color: #222; background: #fafafa; }
  header.top { display: flex; gap: 18px; align-items: baseline; padding: 8px 14px; background: #1d2733; color: #eee; }
  header.top a { color: #cde; text-decoration: none; }
  header.top a.active { color: #fff; font-weight: 600; }
  header.top .brand { font-weight: 700; color: #fff; }
  main { padding: 6px 14px 30px; }
  h2 { font-size: 18px; margin: 10px 0; }
  h3 { font-size: 15px; margin: 14px 0 6px; }
  table { border-collapse: collapse; background: #fff; }
  th, td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
  th { background: #f0f2f5; font-weight: 600; }
  th.sortable { cursor: pointer; }
  th.sorted::after { content: ' ▾'; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.cmd { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
  table.functions tbody tr { cursor: pointer; }
  table.functions tbody tr:hover { background: #f5f0e0; }
  .fn { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
  .muted { color: #777; }
  .controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 6px 0; }
  .filter, .fg-search { width: 22em; padding: 3px 6px; }
  .error { background: #fde8e8; border: 1px solid #e99; color: #900; padding: 6px 10px; margin: 6px 0; border-radius: 4px; }
  button.primary { font-weight: 600; }
  button.link { background: none; border: none; color: #06c; text-decoration: underline; cursor: pointer; padding: 0 3px; }
  .toolbar { display: flex; gap: 12px; align-items: center; margin: 6px 0; }
  .tab { border: 1px solid #bbb; background: #fff; padding: 3px 10px; cursor: pointer; }
  .tab.active { background: #1d2733; color: #fff; }
  .flame { background: #fff; border: 1px solid #ddd; padding: 4px 0; margin: 6px 0; }
  .flame .fg-title { font-weight: 600; padding: 0 10px; word-break: break-all; }
  .flame .fg-subtitle { font-size: 12px; padding: 0 10px; }
  .flame .controls, .flame .fg-crumbs { padding: 0 10px; }
  .fg-matched { color: #a0a; font-weight: 600; }
  .fg-crumbs { font-size: 12px; }
  .fg-crumbs a { color: #06c; }
  .fg-chart { display: block; }
  .fg-tooltip { position: fixed; background: #fffff0; border: 1px solid #888; border-radius: 4px; padding: 6px 8px; font-size: 12px;
                pointer-events: none; box-shadow: 0 2px 6px #0003; max-width: 60em; word-break: break-all; z-index: 2; }
  .fg-tooltip .tip-name { font-weight: 600; }
  .frame text { font: 12px ui-monospace, Menlo, Consolas, monospace; fill: #000; pointer-events: none; }
  .frame { cursor: pointer; }
  .frame:hover rect { stroke: #000; stroke-width: 0.8; }
  .frame.faded rect { opacity: 0.45; }
  .threads details { background: #fff; border: 1px solid #e3e3e3; margin: 4px 0; padding: 4px 8px; }
  .thread-name { font-weight: 600; }
  .state { font-size: 12px; padding: 0 5px; border-radius: 3px; background: #eee; }
  .state-active { background: #e0f2e0; } .state-holds-gil { background: #fde0c8; }
  ol.frames { margin: 4px 0; padding-left: 24px; }
  .gil-row { display: flex; gap: 16px; align-items: flex-start; }
  .chart-box { margin: 0; } .chart-box figcaption { font-size: 12px; color: #555; }
  canvas.chart { background: #fff; border: 1px solid #ddd; }
  .drop { border: 2px dashed #bbb; padding: 18px; text-align: center; background: #fff; margin: 8px 0; }
  .drop.over { border-color: #06c; background: #eef5ff; }
  .columns { display: flex; gap: 30px; flex-wrap: wrap; }
  .profile-list { padding-left: 18px; }
  .sandwich .flame { margin: 10px 0; }
  .terminal { background: #000; padding: 6px; display: inline-block; }
  .cmd-form label { font-size: 12px; color: #444; }
  .cmd-run { background: #fff; border: 1px solid #e3e3e3; margin: 6px 0; padding: 4px 8px; }
  .cmd-status.error { padding: 0 6px; }
  table.results td { font-size: 12px; }
  .v-node > summary, .v-leaf { font: 12px ui-monospace, Menlo, Consolas, monospace; }
  .v-children { padding-left: 16px; border-left: 1px dotted #ccc; }
  .v-type { color: #07a; } .v-name { color: #555; } .v-error { color: #900; }
  ul.trace-tree, .trace-tree ul { list-style: none; padding-left: 16px; margin: 2px 0; font: 12px ui-monospace, Menlo, Consolas, monospace; }
  .trace-head { font-weight: 600; font-size: 12px; }
  .tn-c { color: #555; } .tn-cost { color: #a50; }
`;
