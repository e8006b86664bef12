// The report's one stylesheet, inline in the file: the report must open offline, from anywhere.
// Outcome colours follow the terminal's (green ok, yellow changed, red failed).
export const REPORT_CSS = `
:root { --ok:#2e7d32; --changed:#b26a00; --would:#1565c0; --unknown:#6a1b9a; --failed:#c62828;
  --muted:#666; --line:#ddd; font-family: system-ui, sans-serif; color:#222; }
body { margin: 0 auto; max-width: 1400px; padding: 1rem 2rem 4rem; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid var(--line); }
code, pre { font-family: ui-monospace, monospace; }
dl#summary { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { color: var(--muted); } dd { margin: 0; }
.legend { color: var(--muted); font-size: .85rem; } .legend span { margin-right: .8rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { border: 1px solid var(--line); padding: .2rem .4rem; text-align: center; }
thead th { vertical-align: bottom; font-weight: normal; max-width: 2.2rem; }
thead th span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; max-height: 16rem;
  overflow: hidden; text-overflow: ellipsis; display: inline-block; }
tbody th { text-align: left; white-space: nowrap; }
td.status { white-space: nowrap; }
tr.s-failed th, tr.s-failed td.status, tr.s-unreachable th, tr.s-rolled-back th { color: var(--failed); font-weight: bold; }
td.o-ok { background: #e8f5e9; color: var(--ok); }
td.o-changed { background: #fff3e0; color: var(--changed); }
td.o-would-change { background: #e3f2fd; color: var(--would); }
td.o-unknown { background: #f3e5f5; color: var(--unknown); }
td.o-failed, td.o-unreachable { background: #ffebee; color: var(--failed); font-weight: bold; }
td.o-skipped, td.o-rolled-back, td.none { background: #fafafa; color: var(--muted); }
.legend .o-ok, .legend .o-changed, .legend .o-failed { font-weight: bold; }
.o-ok { color: var(--ok); } .o-changed { color: var(--changed); } .o-would-change { color: var(--would); }
.o-unknown { color: var(--unknown); } .o-failed, .o-unreachable { color: var(--failed); }
.lane { display: grid; grid-template-columns: 10rem 1fr; align-items: center; margin: .15rem 0; }
.lane .name { font-size: .85rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.track { position: relative; height: 1rem; background: #f5f5f5; }
.track span { position: absolute; top: 0; bottom: 0; min-width: 2px; border-right: 1px solid #fff; }
.track .o-ok { background: var(--ok); } .track .o-changed { background: var(--changed); }
.track .o-would-change { background: var(--would); } .track .o-unknown { background: var(--unknown); }
.track .o-failed, .track .o-unreachable { background: var(--failed); }
.track .o-skipped, .track .o-rolled-back { background: #bbb; }
#failures article { border-left: 4px solid var(--failed); padding: .2rem 1rem; margin: 1rem 0; background: #fff8f8; }
pre { background: #f7f7f7; padding: .6rem; overflow-x: auto; font-size: .8rem; }
pre.message { white-space: pre-wrap; }
details { margin: .5rem 0; } summary { cursor: pointer; font-weight: 600; }
.diff .add { color: #1b5e20; background: #e8f5e9; display: inline-block; min-width: 100%; }
.diff .del { color: #b71c1c; background: #ffebee; display: inline-block; min-width: 100%; }
.diff .hunk { color: var(--would); } .diff .file { color: var(--muted); font-weight: bold; } .diff .attr { color: var(--changed); }
small { color: var(--muted); font-weight: normal; }
`;
