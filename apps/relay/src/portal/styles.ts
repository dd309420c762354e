// The portal's style sheet, inlined in each page and allowed by its hash in the CSP.
import { createHash } from 'node:crypto';

export const PORTAL_CSS = `
:root {
  --ink: #1b1f24; --muted: #555d66; --line: #d5d9de; --paper: #ffffff; --wash: #f5f6f8;
  --accent: #1d4ed8; --accent-ink: #ffffff; --focus: #1d4ed8;
  --ok: #0b6b2f; --ok-wash: #e5f4ea; --wait: #7a4a00; --wait-wash: #fff3dc;
  --bad: #a51d1d; --bad-wash: #fdeaea; --auto: #24508f; --auto-wash: #e7effa;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  color: var(--ink); background: var(--wash); line-height: 1.5;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; }
.skip { position: absolute; left: -999px; top: 0; }
.skip:focus { left: 1rem; top: 1rem; background: var(--paper); padding: .5rem 1rem; z-index: 2; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.topbar {
  background: var(--paper); border-bottom: 1px solid var(--line); padding: .75rem 1.5rem;
  display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap;
}
.brand { font-weight: 700; letter-spacing: .01em; }
.topbar .org { color: var(--muted); }
main { max-width: 56rem; margin: 0 auto; padding: 1.5rem; }
.embed main { max-width: none; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
.embed h1 { font-size: 1.3rem; }
h2 { font-size: 1.2rem; margin: 0 0 .75rem; }
h3 { font-size: 1.1rem; margin: 0; overflow-wrap: anywhere; }
h4 { font-size: 1rem; margin: 0 0 .5rem; }
.lead { color: var(--muted); margin: 0 0 1.25rem; }
.panel {
  background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
  padding: 1.25rem; margin-bottom: 1.25rem;
}
label { font-weight: 600; display: block; margin-bottom: .25rem; }
.help { color: var(--muted); margin: 0 0 .5rem; font-size: .95rem; }
.row { display: flex; gap: .5rem; flex-wrap: wrap; align-items: stretch; }
.row > input { flex: 1 1 16rem; }
input[type=text] {
  font: inherit; padding: .5rem .6rem; border: 1px solid #8a939c; border-radius: 6px;
  background: var(--paper); color: var(--ink); min-width: 0;
}
input[readonly] { background: var(--wash); }
input[aria-invalid=true] { border-color: var(--bad); }
.mono, code {
  font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .92em;
}
button, .button {
  font: inherit; font-weight: 600; border-radius: 6px; padding: .5rem .9rem; cursor: pointer;
  border: 1px solid var(--accent); background: var(--accent); color: var(--accent-ink);
  text-decoration: none; display: inline-block;
}
button.secondary, .button.secondary { background: var(--paper); color: var(--accent); }
button.danger { background: var(--paper); color: var(--bad); border-color: var(--bad); }
button:hover { filter: brightness(1.08); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
input:focus-visible { outline-offset: 0; }
.field-error { color: var(--bad); margin: .5rem 0 0; font-weight: 600; }
.flash { border-radius: 8px; padding: .75rem 1rem; margin-bottom: 1.25rem; border: 1px solid; }
.flash p { margin: 0; }
.flash-success { background: var(--ok-wash); border-color: var(--ok); color: var(--ok); }
.flash-info { background: var(--auto-wash); border-color: var(--auto); color: var(--auto); }
.flash-error { background: var(--bad-wash); border-color: var(--bad); color: var(--bad); }
.flash strong { display: block; }
.off {
  background: var(--wait-wash); border: 1px solid var(--wait); color: var(--wait);
  border-radius: 8px; padding: .75rem 1rem; margin: 0;
}
.domains { list-style: none; margin: 0; padding: 0; display: grid; gap: 1rem; }
.domain {
  background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
  padding: 1.1rem 1.25rem;
}
.domain-head {
  display: flex; gap: .75rem; align-items: center; justify-content: space-between;
  flex-wrap: wrap;
}
.alabel { color: var(--muted); font-weight: 400; font-size: .9rem; }
.badge {
  display: inline-flex; align-items: center; gap: .35rem; font-weight: 700; font-size: .95rem;
  border-radius: 999px; padding: .15rem .7rem .15rem .5rem; border: 1px solid;
}
.badge svg { width: 1em; height: 1em; flex: none; }
.tone-verified { color: var(--ok); background: var(--ok-wash); }
.tone-pending { color: var(--wait); background: var(--wait-wash); }
.tone-failed { color: var(--bad); background: var(--bad-wash); }
.tone-auto { color: var(--auto); background: var(--auto-wash); }
.detail { margin: .5rem 0 .75rem; color: var(--muted); }
.facts {
  display: grid; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); gap: .5rem 1.25rem;
  margin: 0 0 .75rem;
}
.facts div { min-width: 0; }
.facts dt {
  font-size: .85rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em;
}
.facts dd { margin: 0; overflow-wrap: anywhere; }
.hint {
  background: var(--wash); border-left: 4px solid var(--muted); padding: .5rem .75rem;
  margin: 0 0 .75rem; overflow-wrap: anywhere;
}
.hint.doubled { border-left-color: var(--wait); background: var(--wait-wash); }
.record { border-top: 1px solid var(--line); padding-top: .75rem; margin-top: .25rem; }
.record .field { margin-bottom: .6rem; }
.record .row > input { flex: 1 1 20rem; }
.note { color: var(--muted); font-size: .95rem; margin: .25rem 0 0; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; margin-top: 1rem; }
.actions form { margin: 0; }
.empty { color: var(--muted); margin: 0; }
.when { display: block; color: var(--muted); font-size: .9rem; }
.embed .pagefoot { max-width: none; padding: 0 1rem 1rem; }
.pagefoot {
  max-width: 56rem; margin: 0 auto; padding: 0 1.5rem 2rem; color: var(--muted);
  font-size: .9rem; display: flex; gap: 1rem; align-items: center; flex-wrap: wrap;
}
.pagefoot form { margin: 0; }
.pagefoot button { font-size: .9rem; padding: .3rem .7rem; }
.notice { position: sticky; top: 0; z-index: 1; }
@media (prefers-reduced-motion: no-preference) { button { transition: filter .1s; } }
`;

const CSS_HASH = createHash('sha256').update(PORTAL_CSS).digest('base64');

/** The `style-src` source that allows exactly this style sheet. */
export const PORTAL_CSS_SOURCE = `'sha256-${CSS_HASH}'`;
