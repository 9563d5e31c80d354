// One small stylesheet shared by every page (no CDN, no external fonts).
export const STYLE = `
:root { --fg: #1d1d1f; --muted: #6e6e73; --line: #d2d2d7; --bg: #f5f5f7; --accent: #0a62d0; --danger: #c4281c; --ok: #1b7f3b; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--fg); background: var(--bg); }
.top { padding: 12px 20px; background: #fff; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; color: var(--fg); text-decoration: none; font-size: 18px; }
main.card { max-width: 420px; margin: 40px auto; background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 28px; }
main.wide { max-width: 1100px; margin: 24px auto; padding: 0 16px; }
h1 { font-size: 24px; margin: 0 0 16px; }
label { display: block; margin: 12px 0 4px; font-weight: 600; font-size: 14px; }
input[type=text], input[type=email], input[type=password], input[type=url], select, textarea { width: 100%; padding: 10px 12px; border: 1px solid var(--line); border-radius: 8px; font: inherit; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 12px 0; padding: 8px 12px; }
fieldset label { font-weight: 400; display: flex; gap: 8px; align-items: center; }
button, .button { display: inline-block; margin-top: 16px; padding: 10px 16px; border-radius: 8px; border: 1px solid var(--accent); background: var(--accent); color: #fff; font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); }
:focus-visible { outline: 3px solid #7fb0ff; outline-offset: 2px; }
.error { color: var(--danger); }
.muted { color: var(--muted); font-size: 14px; }
.row { display: flex; gap: 8px; flex-wrap: wrap; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: 8px; border-bottom: 1px solid var(--line); font-size: 14px; }
code { background: var(--bg); padding: 2px 4px; border-radius: 4px; }
/* Developer Portal */
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.eyebrow { margin: 0 0 4px; color: var(--muted); font-size: 13px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
.portal-nav { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; margin-bottom: 20px; padding: 10px 14px; background: #fff; border: 1px solid var(--line); border-radius: 10px; }
.portal-home { font-weight: 700; color: var(--fg); text-decoration: none; }
.portal-who { margin-left: auto; overflow-wrap: anywhere; }
form.inline { display: inline; margin: 0; }
form.inline button, .portal-nav button, td button { margin-top: 0; }
button.small, .button.small { padding: 5px 10px; font-size: 13px; }
button.danger-outline { background: #fff; color: var(--danger); border-color: var(--danger); }
a.button.secondary-link { background: #fff; color: var(--accent); }
.button.danger { background: var(--danger); border-color: var(--danger); }
.crumbs { margin: 0 0 6px; font-size: 14px; color: var(--muted); }
.page-head { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 12px; margin-bottom: 12px; }
.page-head h1, .page-head .button { margin: 0; }
.app-head { display: flex; align-items: center; gap: 12px; }
.app-head h1 { margin: 0; overflow-wrap: anywhere; }
.app-head p { margin: 0; }
.logo, .logo-placeholder { width: 40px; height: 40px; border-radius: 9px; flex: none; }
.logo-placeholder { display: grid; place-items: center; background: var(--accent); color: #fff; font-weight: 700; font-size: 20px; text-transform: uppercase; }
.tabs { display: flex; gap: 4px; margin: 16px 0 20px; border-bottom: 1px solid var(--line); overflow-x: auto; }
.tab { padding: 8px 14px; color: var(--muted); text-decoration: none; font-weight: 600; border-bottom: 3px solid transparent; white-space: nowrap; }
.tab.active { color: var(--fg); border-bottom-color: var(--accent); }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 20px; margin-bottom: 16px; }
.panel h2 { font-size: 18px; margin: 0 0 12px; }
.panel.narrow { max-width: 560px; }
.panel.empty { text-align: center; padding: 32px 20px; }
.danger-zone { border-color: #f0b4ae; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; align-items: start; }
.app-list { list-style: none; margin: 0; padding: 0; display: grid; gap: 10px; }
.app-item { display: flex; flex-direction: column; gap: 2px; background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 14px 18px; }
.app-item a strong { font-size: 17px; overflow-wrap: anywhere; }
.app-links { font-size: 14px; }
.notice { padding: 10px 14px; border-radius: 8px; margin: 0 0 16px; }
.notice-ok { background: #e8f5ec; color: var(--ok); border: 1px solid #b7dfc3; }
.notice-error { background: #fdecea; color: var(--danger); border: 1px solid #f0b4ae; }
.email-request { background: #eef4fd; border: 1px solid #c4d7f2; margin: 8px 0 0; }
.warning { background: #fff7e0; border: 1px solid #f1d58a; border-radius: 8px; padding: 10px 14px; }
.kv { display: grid; grid-template-columns: minmax(120px, max-content) 1fr; gap: 8px 16px; margin: 0 0 12px; }
.kv dt { font-weight: 600; font-size: 14px; color: var(--muted); }
.kv dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.copy-row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.copy-row code { overflow-wrap: anywhere; }
.copy-row button { margin-top: 0; }
code.secret { background: #fff7e0; font-size: 15px; padding: 4px 6px; }
code.block { display: block; width: fit-content; margin-bottom: 4px; overflow-wrap: anywhere; }
.snippet { position: relative; }
.snippet .copy { position: absolute; top: 8px; right: 8px; margin: 0; }
pre.code { margin: 0; padding: 14px; background: #1d1d1f; color: #f5f5f7; border-radius: 8px; overflow-x: auto; font-size: 13px; line-height: 1.45; }
pre.code code { background: none; padding: 0; }
.filters { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: flex-end; margin-bottom: 8px; }
.filters > div { flex: 1 1 200px; }
.filters > .filter-buttons { flex: 0 0 auto; display: flex; gap: 12px; align-items: center; }
.filters label { margin-top: 0; }
.filters input[type=search] { width: 100%; padding: 10px 12px; border: 1px solid var(--line); border-radius: 8px; font: inherit; }
.filters button { margin-top: 0; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 12px; margin-bottom: 12px; }
.table-wrap table { min-width: 100%; }
.table-wrap th { background: #fafafa; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); white-space: nowrap; }
.table-wrap td { vertical-align: middle; }
.table-wrap tr:last-child td { border-bottom: 0; }
tr.is-blocked td { background: #fff8f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td time, td code { white-space: nowrap; }
.break { overflow-wrap: anywhere; }
.actions { display: flex; gap: 6px; align-items: center; flex-wrap: nowrap; white-space: nowrap; }
.small-link { font-size: 13px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge-ok { background: #e8f5ec; color: var(--ok); }
.badge-off { background: #ececef; color: var(--muted); }
.badge-danger { background: #fdecea; color: var(--danger); }
.badge-info { background: #e6f0fc; color: var(--accent); }
.pager { display: flex; justify-content: space-between; gap: 12px; margin: 8px 0 24px; }
.pager a[rel=next] { margin-left: auto; }
.excerpt { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
main.wide:has(table.dense) { max-width: 1440px; }
table.dense th, table.dense td { padding: 8px 6px; font-size: 13px; }
table.dense th { font-size: 11px; }
table.dense td.email { white-space: nowrap; }
table.dense td.user-name { min-width: 110px; }
.filters input[type=search], .filters select { height: 44px; }
@media (min-width: 700px) { .sticky-actions { position: sticky; right: 0; background: #fff; box-shadow: -8px 0 8px -8px rgba(0,0,0,.15); } th.sticky-actions { background: #fafafa; } tr.is-blocked td.sticky-actions { background: #fff8f7; } }
@media (max-width: 600px) { .portal-who { margin-left: 0; width: 100%; order: 3; } .kv { grid-template-columns: 1fr; gap: 2px; } .kv dd { margin-bottom: 8px; } }
/* Account center (shares .tabs, .panel, .notice, .badge, .kv with the portal) */
.account { max-width: 760px; margin: 0 auto; }
.account-head { display: flex; justify-content: space-between; align-items: center; gap: 12px; flex-wrap: wrap; }
.account-head p { margin: 0; }
.account-head button { margin-top: 0; }
.items { list-style: none; margin: 0; padding: 0; }
.items li { display: flex; justify-content: space-between; align-items: center; gap: 12px; flex-wrap: wrap; padding: 12px 0; border-bottom: 1px solid var(--line); }
.items li:last-child { border-bottom: 0; }
.items button, .items .button, .setting button { margin-top: 0; }
.avatar { width: 56px; height: 56px; border-radius: 50%; object-fit: cover; flex: none; display: grid; place-items: center; background: var(--accent); color: #fff; font-weight: 700; font-size: 22px; }
.profile, .app-line { display: flex; gap: 14px; align-items: center; }
.app-line h1 { margin: 0; overflow-wrap: anywhere; }
.setting { display: flex; justify-content: space-between; align-items: center; gap: 12px; flex-wrap: wrap; padding: 10px 0; border-bottom: 1px solid var(--line); }
.setting:last-child { border-bottom: 0; }
.setting p { margin: 4px 0 0; }
[hidden] { display: none !important; }
.qr svg { width: 200px; height: 200px; background: #fff; }
.recovery-codes { columns: 2; font-size: 1.1em; }
.passkey { display: block; padding: 8px 0; border-bottom: 1px solid #ddd; }
.mail pre { white-space: pre-wrap; overflow-wrap: anywhere; font: 14px/1.5 ui-monospace, Menlo, Consolas, monospace; margin: 0; }
@media (max-width: 480px) { main.card { margin: 0; border-radius: 0; border-left: 0; border-right: 0; } }
`;
