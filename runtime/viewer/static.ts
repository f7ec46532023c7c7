// The stylesheet, served from our origin so the CSP can forbid inline styles.
export const STYLESHEET = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#1d2430;background:#f4f6f9}
header{display:flex;flex-wrap:wrap;align-items:center;gap:1rem;padding:.7rem 1.2rem;background:#1f3a5f;color:#fff}
header a{color:#fff;text-decoration:none}.brand{font-weight:600;margin-right:auto}nav{display:flex;gap:1rem;align-items:center}
main{max-width:1280px;margin:1.2rem auto;padding:0 1rem}h1{font-size:1.35rem}
table{width:100%;border-collapse:collapse;background:#fff}th,td{padding:.45rem .6rem;border-bottom:1px solid #e1e5eb;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}.reason{font-weight:600;font-size:.8rem;padding:.1rem .4rem;border-radius:3px;background:#ddd}
.VIRUS{background:#f6c9c9}.BANNED{background:#f8dcb4}.SPAM{background:#fdf0b5}.BADH{background:#d8e3f4}
form.inline{display:inline}nav form.inline{display:flex;margin:0}button,input[type=submit]{cursor:pointer;padding:.35rem .8rem;border:1px solid #1f3a5f;background:#1f3a5f;color:#fff;border-radius:3px}
button.link{background:none;border:none;color:inherit;text-decoration:underline;padding:0;font:inherit}button.danger{background:#a33;border-color:#a33}
input[type=text],input[type=password],input[type=search],select,textarea{padding:.35rem;border:1px solid #aab3c0;border-radius:3px;font:inherit}
textarea{width:100%;min-height:7rem}label{display:block;margin:.6rem 0 .2rem;font-weight:600}
.notice{padding:.6rem .8rem;border-radius:3px}.notice.ok{background:#dff3e0}.notice.error{background:#f8d7d7}
.filters{display:flex;gap:.5rem;flex-wrap:wrap;margin-bottom:.8rem}pre.body{white-space:pre-wrap;word-break:break-word;background:#fff;padding:1rem;border:1px solid #e1e5eb}
.card{background:#fff;border:1px solid #e1e5eb;padding:1rem;margin-bottom:1rem}.actions{display:flex;gap:.5rem;flex-wrap:wrap;margin:.8rem 0}
.muted{color:#667}.pager{display:flex;gap:1rem;margin:.8rem 0}svg text{font:11px system-ui,sans-serif;fill:#334}
.login{max-width:360px;margin:3rem auto}.confirm{max-width:720px}label.check{display:inline;font-weight:400;margin-right:1rem}
.list{font-weight:600;font-size:.8rem;padding:.1rem .4rem;border-radius:3px}.list.allow{background:#dff3e0}.list.block{background:#f6c9c9}table.audit td{font-size:.85rem}
td .actions{flex-wrap:nowrap;align-items:center;margin:0}td button{padding:.2rem .55rem;font-size:.85rem;white-space:nowrap}table{font-size:.93rem}
td:first-child{white-space:nowrap;color:#445}td .muted{font-size:.85rem}
`;
