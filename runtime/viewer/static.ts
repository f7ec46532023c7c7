// The stylesheet, served from our origin so the CSP can forbid inline styles. The message list
// keeps one line per message at any length of subject (table-layout fixed, ellipsis), and below
// 760 px each row becomes a small card, so no page is wider than a phone.
export const STYLESHEET = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;color:#1d2430;background:#f4f6f9}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1rem;padding:.7rem 1.2rem;background:#1f3a5f;color:#fff}
header a{color:#fff;text-decoration:none}header nav a:hover{text-decoration:underline}.brand{font-weight:600;margin-right:auto}
nav{display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:center}
main{max-width:1280px;margin:1.2rem auto;padding:0 1rem}h1{font-size:1.35rem;overflow-wrap:anywhere}h2{font-size:1.1rem}
a{color:#1f4f8f}
table{width:100%;border-collapse:collapse;background:#fff;font-size:.93rem}
th,td{padding:.45rem .6rem;border-bottom:1px solid #e1e5eb;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef1f5;font-weight:600}th a{color:inherit;text-decoration:none}th a:hover{text-decoration:underline}
.reason{font-weight:600;font-size:.8rem;padding:.1rem .4rem;border-radius:3px;background:#ddd;white-space:nowrap}
.VIRUS{background:#f6c9c9}.BANNED{background:#f8dcb4}.UNCHECKED{background:#e4dcf3}.SPOOFED{background:#f3c6e4}.SPAM{background:#fdf0b5}.BADH{background:#d8e3f4}
form.inline{display:inline}nav form.inline{display:flex;margin:0}
button,input[type=submit]{cursor:pointer;padding:.35rem .8rem;border:1px solid #1f3a5f;background:#1f3a5f;color:#fff;border-radius:3px;font:inherit;font-size:.93rem}
button.link{background:none;border:none;color:inherit;text-decoration:underline;padding:0;font:inherit}button.danger{background:#a33;border-color:#a33}
input[type=text],input[type=password],input[type=search],input[type=date],select,textarea{padding:.35rem;border:1px solid #aab3c0;border-radius:3px;font:inherit;max-width:100%;background:#fff}
textarea{width:100%;min-height:7rem}label{display:block;margin:.6rem 0 .2rem;font-weight:600}
label.field{display:inline-flex;align-items:center;gap:.35rem;margin:0;font-weight:400;color:#445}
.notice{padding:.6rem .8rem;border-radius:3px}.notice.ok{background:#dff3e0}.notice.error{background:#f8d7d7}
.filters,.bulk{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center;margin-bottom:.6rem}.filters input[type=search]{flex:1 1 14rem;min-width:0}
.bulk{background:#eef1f5;padding:.4rem .6rem;border:1px solid #e1e5eb;border-bottom:none;margin:0}.bulk a{margin-left:auto;font-size:.9rem}
pre.body{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;padding:1rem;border:1px solid #e1e5eb}
.card{background:#fff;border:1px solid #e1e5eb;padding:1rem;margin-bottom:1rem}.actions{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center;margin:.8rem 0}
.muted{color:#667}.pager{display:flex;gap:1rem;margin:.8rem 0;flex-wrap:wrap}svg{max-width:100%;height:auto}svg text{font:11px system-ui,sans-serif;fill:#334}
.login{max-width:360px;margin:3rem auto}.confirm{max-width:720px}.confirm.wide{max-width:none}label.check{display:inline;font-weight:400;margin-right:1rem}
.list{font-weight:600;font-size:.8rem;padding:.1rem .4rem;border-radius:3px}.list.allow{background:#dff3e0}.list.block{background:#f6c9c9}table.audit td{font-size:.85rem}
td .actions{flex-wrap:nowrap;margin:0}td button{padding:.2rem .55rem;font-size:.85rem;white-space:nowrap}
table.headers th{width:9rem;white-space:nowrap}th.score,th.size{text-align:right}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}

table.messages,table.selection{table-layout:fixed}
table.messages td,table.selection td{overflow-wrap:normal}
.messages .check{width:2.2rem;padding-right:0}.messages .when,.selection .when{width:7.2rem;white-space:nowrap;color:#445}.messages .clock,.selection .clock{display:block;font-size:.85rem}
.messages .from{width:19%}.messages.with-to .from{width:15%}.messages .to{width:12%}.messages .reason-cell{width:10.5rem}
.messages .score{width:4.4rem;text-align:right}.messages .size{width:5rem;text-align:right;white-space:nowrap}.messages .menu-cell{width:6.6rem}
.messages .from,.messages .to,.messages td.subject,.messages .detail,.selection .from,.selection td.subject{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.messages td.subject a{font-weight:500}.messages .detail{display:block;font-size:.85rem}.selection .from{width:25%}.selection .outcome{width:30%}
.messages tbody tr:hover{background:#f8fafc}.messages input[type=checkbox]{width:1.05rem;height:1.05rem;margin:.15rem 0 0}

details.menu{position:relative}details.menu summary{cursor:pointer;list-style:none;padding:.2rem .55rem;border:1px solid #aab3c0;border-radius:3px;background:#fff;font-size:.85rem;white-space:nowrap;text-align:center}
details.menu summary::-webkit-details-marker{display:none}details.menu summary::after{content:" ▾"}details.menu[open] summary{background:#eef1f5}
.menu-items{position:absolute;right:0;top:calc(100% + .25rem);z-index:10;display:flex;flex-direction:column;gap:.1rem;width:max-content;min-width:11rem;max-width:min(22rem,86vw);
  padding:.35rem;background:#fff;border:1px solid #aab3c0;border-radius:4px;box-shadow:0 4px 14px rgba(20,30,50,.18)}
.menu-items .actions{display:contents}.menu-items form{display:block}
.menu-items a,.menu-items button{display:block;width:100%;text-align:left;padding:.35rem .6rem;border:none;border-radius:3px;background:none;color:#1d2430;font-size:.9rem;
  text-decoration:none;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.menu-items a:hover,.menu-items button:hover{background:#eef1f5}.menu-items button.danger{color:#a33;background:none}

@media (max-width:760px){
  header{padding:.6rem .8rem}main{padding:0 .6rem;margin-top:.8rem}
  main table:not(.messages):not(.selection){display:block;overflow-x:auto}
  table.messages,table.messages tbody{display:block}
  table.messages thead{display:block;background:#eef1f5}
  table.messages thead tr{display:flex;flex-wrap:wrap;gap:.1rem .2rem;padding:.3rem .5rem}
  table.messages thead tr::before{content:"Sort by";color:#667;font-size:.85rem;padding:.15rem .2rem}
  table.messages thead th[class]{width:auto;border:none;padding:.15rem .35rem;font-size:.85rem;font-weight:500;text-align:left}
  table.messages thead th.check,table.messages thead th.menu-cell,table.messages thead th.to{display:none}
  table.messages tbody tr{display:flex;flex-wrap:wrap;align-items:center;padding:.45rem .5rem;border-bottom:1px solid #e1e5eb}
  table.messages tbody td{border:none;padding:.05rem .25rem;width:auto}
  .messages td.check{order:0;flex:0 0 1.7rem}.messages td.subject{order:1;flex:1 1 0;min-width:0;font-size:1rem}
  .messages td.menu-cell{order:2;flex:0 0 auto}
  .messages td.from,.messages td.to{order:3;flex:0 0 100%;padding-left:1.95rem}.messages td.to{order:4}
  .messages td.when{order:5;width:auto;padding-left:1.95rem;font-size:.85rem}.messages .clock{display:inline}
  .messages td.score{order:6;width:auto;font-size:.85rem}.messages td.size{order:7;width:auto;font-size:.85rem;color:#445}
  .messages td.reason-cell{order:8;flex:1 1 0;min-width:3.2rem;display:flex;gap:0 .3rem;align-items:baseline;white-space:nowrap;overflow:hidden}
  .messages .detail{flex:1 1 0;min-width:0}.messages td.score:empty{display:none}
  .filters input[type=search]{flex-basis:100%}
  .bulk a{margin-left:0}
  table.selection .when{width:5.6rem;font-size:.85rem}table.selection .from{display:none}table.selection .outcome{width:38%}
}
`;
