/* Spoor console: a small single-page app over spoor-api's JSON endpoints.
 *
 * It holds no secret of its own: the browser keeps an HttpOnly session
 * cookie, and this script keeps only the session's CSRF secret (sent with
 * every call that changes anything).  Everything is decided by the database
 * through the same operations as the CLI and the bearer API; the page only
 * offers what the person's groups and the request's scope allow, so nobody
 * is invited to try a blanket search.  Data is put into the page with
 * textContent only, never as HTML. */
'use strict';

const S = { person: null, groups: [], csrf: '', idle: 0, timer: null, requests: [] };
const $ = (sel) => document.querySelector(sel);
const main = () => $('#main');

/* h('tag.class', {attr: v, onclick: f}, children...) */
function h(spec, attrs, ...kids) {
  const [tag, ...cls] = spec.split('.');
  const e = document.createElement(tag);
  if (cls.length) e.className = cls.join(' ');
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return e;
}
const has = (g) => S.groups.includes(g);
/* Replaces EL's children, leaving out the parts a page did not make. */
const put = (el, ...kids) => el.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
const fmtTime = (t) => (t ? new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '—');

function notice(msg, ok) {
  const n = $('#notice');
  if (!msg) { n.hidden = true; n.textContent = ''; return; }
  n.textContent = msg;
  n.className = 'notice' + (ok ? ' ok' : '');
  n.hidden = false;
}

/* What an answer means, in words a legal officer uses. */
function explain(http, j) {
  const e = j && (j.reason || j.error);
  if (j && (j.status === 'denied' || j.status === 'refused'))
    return 'Refused by the legal gate: ' + (e || 'no reason given') + '.';
  switch (http) {
    case 400: return 'Spoor could not accept this input: ' + (e || 'it is not valid') + '.';
    case 401: return 'You are not signed in, or your session has ended. Please sign in again.';
    case 403:
      if (e && e.includes('CSRF')) return 'The page\u2019s security check failed. Reload the page and try again.';
      return 'Your role does not allow this action. A colleague with the right role (for example an approver or an auditor) has to do it.';
    case 404: return 'This was not found. It may have been removed, or the address is wrong.';
    case 413: return 'What you sent is too large for Spoor to accept.';
    case 429: return 'Too many requests in a short time. Wait a few seconds and try again.';
    case 503: return 'Spoor cannot reach its database just now. Try again in a minute; if it persists, tell the system administrator.';
    default: return 'Spoor could not complete this (error ' + http + '). Try again; if it persists, tell the system administrator.';
  }
}

class Refusal extends Error {}

/* One call to the API: {http, j}.  A 401 ends the session on the page. */
async function api(method, path, body) {
  /* The session's secret goes with every call, reads included: a read of a
     case is audited under the person's name, so only this page may make one. */
  const opt = { method, credentials: 'same-origin', headers: { 'X-CSRF-Token': S.csrf } };
  if (method !== 'GET') {
    opt.headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body || {});
  }
  let r;
  try { r = await fetch(path, opt); } catch (e) {
    throw new Refusal('Spoor cannot be reached. Check the network connection and try again.');
  }
  let j = null;
  try { j = await r.json(); } catch (e) { j = null; }
  if (r.status === 401 && path !== '/v1/session') {
    signedOut('Your session has ended (signed out, unused for too long, or your token was revoked). Please sign in again.');
    throw new Refusal('');
  }
  armIdle();
  return { http: r.status, j };
}

/* Calls and insists on success; a refusal is shown and thrown. */
async function must(method, path, body) {
  const { http, j } = await api(method, path, body);
  if (http !== 200 || !j || j.status !== 'ok') throw new Refusal(explain(http, j));
  return j;
}

function armIdle() {
  clearTimeout(S.timer);
  if (S.idle > 0) S.timer = setTimeout(checkSession, (S.idle + 1) * 1000);
}
async function checkSession() {
  const { http } = await api('GET', '/v1/session').catch(() => ({ http: 0 }));
  if (http === 401) signedOut('You were signed out after ' + Math.round(S.idle / 60) + ' minutes without activity. Please sign in again.');
}

function signedOut(msg) {
  S.person = null; S.groups = []; S.csrf = ''; S.requests = []; clearTimeout(S.timer);
  $('#nav').hidden = true; $('#signout').hidden = true; $('#who').textContent = '';
  showSignIn(msg);
}

function setSession(j) {
  S.person = j.person; S.groups = j.groups || []; S.csrf = j.csrf; S.idle = j.idle_seconds || 0;
  $('#who').textContent = 'Signed in as ' + S.person + ' (' + S.groups.map((g) => g.replace('spoor_', '')).join(', ') + ')';
  $('#signout').hidden = false;
  const nav = $('#nav');
  nav.hidden = false;
  for (const a of nav.querySelectorAll('a')) {
    const need = a.dataset.group;
    a.hidden = need ? !need.split(' ').some(has) : false;
  }
  armIdle();
}

function showSignIn(msg) {
  notice(msg || '');
  const tok = h('input', { id: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'token-hint' });
  const form = h('form.panel', { 'aria-labelledby': 'signin-h' },
    h('h1', { id: 'signin-h', text: 'Sign in to Spoor' }),
    h('label', { for: 'token', text: 'Your personal access token' }),
    tok,
    h('p.hint', { id: 'token-hint' }, 'Create one at a terminal with ', h('code', { text: 'spoor token create' }),
      ' (signed in to PostgreSQL as yourself). The console keeps it on the server only: your browser gets a session that ends when you sign out or after a period without use.'),
    h('div.actions', {}, h('button', { type: 'submit', text: 'Sign in' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const { http, j } = await api('POST', '/v1/session', { token: tok.value.trim() }).catch((e) => ({ http: 0, j: { error: e.message } }));
    tok.value = '';
    if (http !== 200) { notice(http === 401 ? 'This token is unknown, expired or revoked.' : explain(http, j)); return; }
    notice('');
    setSession(j);
    if (!location.hash || location.hash === '#/signin') location.hash = '#/cases'; else route();
  });
  const m = main();
  put(m, h('div.signin', {}, form));
  tok.focus();
}

/* ---- pages ---- */

const STATES_OPEN = ['received', 'approved', 'executed'];
function atRisk(r) {
  if (!r.deadline || !STATES_OPEN.includes(r.state)) return false;
  return new Date(r.deadline).getTime() - Date.now() < 2 * 86400 * 1000;
}
const badge = (state) => h('span.badge.s-' + state, { text: state });

async function pageCases() {
  if (!['spoor_analyst', 'spoor_approver', 'spoor_auditor'].some(has)) {
    put(main(), h('h1', { text: 'Cases' }), h('p.explain', { text: 'Your role (' + S.groups.map((g) => g.replace('spoor_', '')).join(', ') + ') does not work with cases: analysts, approvers and auditors do. Your own tasks are at the terminal (spoor admin, spoor user, spoor retention).' }));
    return;
  }
  const j = await must('GET', '/v1/requests');
  const seen = new Set();
  S.requests = (j.requests || []).filter((r) => !seen.has(r.request_id) && seen.add(r.request_id));
  const rows = S.requests.map((r) => h('tr' + (atRisk(r) ? '.risk' : ''), {},
    // A case one is not on (and, for an auditor, every case: each reading is
    // audited, case by case) is listed by number, kind and state only.
    h('td', {}, h('a', { href: '#/cases/' + r.request_id, text: '#' + r.request_id + (r.case_ref ? ' ' + r.case_ref : ' (' + r.kind + ')') })),
    h('td', { text: r.authority || '—' }), h('td', {}, badge(r.state)),
    h('td', {}, r.deadline ? fmtTime(r.deadline) : '—', atRisk(r) ? h('strong', { text: ' (deadline at risk)' }) : null),
    h('td', { text: r.max_lookups !== undefined ? (r.lookups_done || 0) + ' of ' + r.max_lookups : '—' }),
    h('td', { text: r.created_by || '—' })));
  put(main(), 
    h('h1', { text: 'Cases' }),
    has('spoor_analyst') ? h('div.actions', {}, h('a', { href: '#/new', text: 'Record a new request' })) : null,
    rows.length ? h('table', {}, h('caption.muted', { text: 'Requests you may see; a highlighted row has its deadline within two days or past.' }),
      h('thead', {}, h('tr', {}, ['Case', 'Authority', 'State', 'Deadline', 'Lookups used', 'Recorded by'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, rows)) : h('p', { text: 'No requests yet.' }));
}

function scopeText(s) {
  const kind = { ip: 'IP address', message_id: 'Message-ID', user_name: 'User name' }[s.kind] || s.kind;
  return kind + ': ' + s.value + (s.port !== null && s.port !== undefined ? ', port ' + s.port : '');
}

async function pageCase(id) {
  const r = await must('GET', '/v1/requests/' + id);
  const left = r.max_lookups - (r.lookups_done || 0);
  const people = r.people || {};
  const m = main();
  const result = h('section', { id: 'result', 'aria-live': 'polite' });
  put(m, 
    h('h1', {}, 'Case #' + r.request_id + ' ' + r.case_ref + ' ', badge(r.state)),
    h('div.grid', {},
      h('div.panel', {}, h('h2', { text: 'The order' }), h('dl.kv', {},
        h('dt', { text: 'Authority' }), h('dd', { text: r.authority }),
        h('dt', { text: 'Legal basis' }), h('dd', { text: r.legal_basis }),
        h('dt', { text: 'Kind' }), h('dd', { text: r.kind }),
        h('dt', { text: 'Received' }), h('dd', { text: fmtTime(r.received_at) }),
        h('dt', { text: 'Deadline' }), h('dd', {}, r.deadline ? fmtTime(r.deadline) : '—', atRisk(r) ? h('strong.bad', { text: ' at risk' }) : null),
        h('dt', { text: 'Subscriber data' }), h('dd', { text: r.subscriber_data ? 'covered by the order' : 'not covered' }))),
      h('div.panel', {}, h('h2', { text: 'What it allows' }), h('dl.kv', {},
        h('dt', { text: 'Window' }), h('dd', { text: fmtTime(r.window_lo) + ' to ' + fmtTime(r.window_hi) }),
        h('dt', { text: 'Lookups left' }), h('dd', { id: 'budget', text: left + ' of ' + r.max_lookups }),
        h('dt', { text: 'Scope' }), h('dd', {}, h('ul', {}, (r.scope || []).map((s) => h('li', { text: scopeText(s) })))))),
      h('div.panel', {}, h('h2', { text: 'People' }), h('dl.kv', {},
        h('dt', { text: 'Recorded by' }), h('dd', { text: people.recorder || r.created_by }),
        h('dt', { text: 'Approved by' }), h('dd', { text: people.approver || r.decided_by || '—' }),
        h('dt', { text: 'Analysts assigned' }), h('dd', { text: (people.assigned || []).join(', ') || '—' })))),
    decisionPanel(r),
    lookupPanel(r, result),
    result,
    h('div', { id: 'export-slot' }, exportPanel(r)),
    h('h2', { text: 'Timeline' }),
    h('ol.timeline', {}, (r.audit || []).map((a) => h('li', {},
      h('strong', { text: a.action }), ' by ', a.actor, ', ', fmtTime(a.at), ' ',
      h('span', { class: a.outcome === 'ok' ? 'good' : 'bad', text: '(' + a.outcome + ')' })))));
}

function decisionPanel(r) {
  if (r.state !== 'received') return null;
  const approver = has('spoor_approver');
  const own = ((r.people && r.people.recorder) || r.created_by) === S.person;
  const note = h('textarea', { id: 'decision-note', rows: 2 });
  const decide = async (approve) => {
    try {
      const { http, j } = await api('POST', '/v1/requests/' + r.request_id + '/' + (approve ? 'approve' : 'reject'), { note: note.value || undefined });
      if (http !== 200 || !j || j.status !== 'ok') { notice(explain(http, j)); return; }
      notice('Request #' + r.request_id + ' is now ' + j.state + '.', true);
      route();
    } catch (e) { if (e.message) notice(e.message); }
  };
  const why = own
    ? 'You recorded this request, so you cannot approve or reject it yourself: the four-eyes rule needs a second person, an approver. It waits for them.'
    : !approver ? 'This request waits for an approver\u2019s decision; your role does not decide requests.' : null;
  return h('section.panel', { 'aria-labelledby': 'decide-h' },
    h('h2', { id: 'decide-h', text: 'Approve or reject' }),
    why ? h('p.explain', { id: own ? 'own-request' : 'not-approver', text: why }) : null,
    approver && !own ? [h('label', { for: 'decision-note' }, 'Note ', h('span.hint', { text: '(required to reject: the reason goes to the recorder and the audit trail)' })), note] : null,
    h('div.actions', {},
      h('button', { type: 'button', id: 'approve', disabled: own || !approver, onclick: () => decide(true), text: 'Approve' }),
      h('button.danger', { type: 'button', id: 'reject', disabled: own || !approver, onclick: () => decide(false), text: 'Reject' })));
}

/* The local time input's value as RFC 3339 UTC (the input is in UTC). */
const utcInput = (v) => (v ? v + (v.length === 16 ? ':00' : '') + 'Z' : '');
const inputTime = (t) => new Date(t).toISOString().slice(0, 19);

function lookupPanel(r, result) {
  if (!has('spoor_analyst') || !['approved', 'executed'].includes(r.state)) return null;
  const scope = r.scope || [];
  const choice = h('select', { id: 'lookup-target' }, scope.map((s, i) => h('option', { value: i, text: scopeText(s) })));
  const at = h('input', { id: 'lookup-at', type: 'datetime-local', step: 1, min: inputTime(r.window_lo), max: inputTime(r.window_hi) });
  const port = h('input', { id: 'lookup-port', type: 'number', min: 0, max: 65535 });
  const atWrap = h('div', {}, h('label', { for: 'lookup-at' }, 'Instant ', h('span.hint', { text: '(UTC, inside the window)' })), at);
  const portWrap = h('div', {}, h('label', { for: 'lookup-port' }, 'Source port ', h('span.hint', { text: '(as the order names it)' })), port);
  const sync = () => {
    const s = scope[choice.value] || {};
    atWrap.hidden = s.kind !== 'ip';
    portWrap.hidden = s.kind !== 'ip';
    if (s.port !== null && s.port !== undefined) { port.value = s.port; port.readOnly = true; } else { port.readOnly = false; }
  };
  choice.addEventListener('change', sync);
  const run = async (ev) => {
    ev.preventDefault();
    const s = scope[choice.value];
    let path, body;
    if (s.kind === 'ip') {
      if (!at.value) { notice('Give the instant the order names (inside the window).'); at.focus(); return; }
      path = '/v1/trace/ip';
      body = { request_id: r.request_id, ip: s.value.replace(/\/(32|128)$/, ''), at: utcInput(at.value) };
      if (port.value !== '') body.port = Number(port.value);
    } else if (s.kind === 'message_id') {
      path = '/v1/trace/message-id'; body = { request_id: r.request_id, message_id: s.value };
    } else {
      path = '/v1/trace/user'; body = { request_id: r.request_id, user_name: s.value };
    }
    put(result, h('p', { text: 'Looking up…' }));
    try {
      const { http, j } = await api('POST', path, body);
      if (http !== 200 || !j || j.status !== 'ok') {
        put(result, h('p.refused', { id: 'refusal', text: explain(http, j) }));
        return;
      }
      notice('');
      put(result, h('h2', { text: 'Result' }), renderResult(j));
      const b = $('#budget');
      if (b) b.textContent = (r.max_lookups - (++r.lookups_done)) + ' of ' + r.max_lookups;
      /* A lookup executes the request: its results can now be exported. */
      if (r.state === 'approved') {
        r.state = 'executed';
        const old = main().querySelector('h1 .badge');
        if (old) old.replaceWith(badge('executed'));
      }
      const slot = $('#export-slot');
      if (slot) put(slot, exportPanel(r));
    } catch (e) { if (e.message) put(result, h('p.refused', { text: e.message })); }
  };
  const form = h('form.panel', { 'aria-labelledby': 'lookup-h' },
    h('h2', { id: 'lookup-h', text: 'Look up' }),
    h('p.hint', { text: 'Only what the order names can be looked up; each lookup uses one of the order\u2019s lookups and is recorded in the audit trail.' }),
    h('div.row', {}, h('div', {}, h('label', { for: 'lookup-target', text: 'Identifier from the order' }), choice), atWrap, portWrap),
    h('div.actions', {}, h('button', { type: 'submit', id: 'lookup-run', text: 'Look up' })));
  form.addEventListener('submit', run);
  sync();
  return h('div', {}, form, headersPanel(r, result));
}

function headersPanel(r, result) {
  if (!(r.scope || []).some((s) => s.kind === 'message_id')) return null;
  const ta = h('textarea', { id: 'headers-text', 'aria-describedby': 'headers-hint' });
  const file = h('input', { id: 'headers-file', type: 'file', accept: '.eml,.txt,message/rfc822,text/plain' });
  file.addEventListener('change', async () => { if (file.files[0]) ta.value = await file.files[0].text(); });
  const form = h('form.panel', { 'aria-labelledby': 'headers-h' },
    h('h2', { id: 'headers-h', text: 'Check a message\u2019s headers' }),
    h('p.hint', { id: 'headers-hint', text: 'Paste the raw message (or only its headers) as the complainant received it. Spoor checks each Received hop that names our servers against our own logs and says whether the message really passed through them.' }),
    h('label', { for: 'headers-file', text: 'Message file' }), file,
    h('label', { for: 'headers-text', text: 'Raw headers' }), ta,
    h('div.actions', {}, h('button', { type: 'submit', id: 'headers-run', text: 'Check the headers' })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!ta.value.trim()) { notice('Paste the message or choose its file first.'); return; }
    try {
      const { http, j } = await api('POST', '/v1/trace/headers', { request_id: r.request_id, message: ta.value });
      if (http !== 200 || !j || (j.status && j.status !== 'ok')) { put(result, h('p.refused', { text: explain(http, j) })); return; }
      put(result, h('h2', { text: 'Header check' }), renderHeaders(j));
    } catch (e) { if (e.message) put(result, h('p.refused', { text: e.message })); }
  });
  return form;
}

const headerVerdicts = {
  sent_by_subscriber: 'The message really left through our servers: our logs show it, sent by the subscriber below.',
  forged_our_headers: 'The headers name our servers, but our logs do not show this message passing through them: those headers were forged (copied from a real message).',
  not_through_us: 'The message did not pass through our servers: no hop names them and our logs do not have it.',
  backscatter: 'A bounce of a message we never sent (backscatter): the bounced message did not leave through our servers, so our subscriber is not its sender.',
};
const hopStates = { verified: 'found in our logs', not_in_our_logs: 'NOT in our logs' };

function renderHeaders(j) {
  const hops = j.hops || [];
  return h('div', {},
    h('p.verdict', { id: 'headers-verdict', text: 'Verdict: ' + (j.verdict || 'none').replace(/_/g, ' ') }),
    h('p', { text: headerVerdicts[j.verdict] || '' }),
    hops.length ? h('table', {}, h('caption.muted', { text: 'Each Received header that names one of our servers, checked against our logs' }),
      h('thead', {}, h('tr', {}, ['Received header', 'Our server', 'Queue ID', 'Time', 'Check'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, hops.map((x) => h('tr', {}, h('td', { text: '#' + ((x.received_index || 0) + 1) }), h('td', { text: x.by || '' }),
        h('td', { class: 'mono', text: x.queue_id || '—' }), h('td', { text: x.time ? fmtTime(x.time) : '—' }),
        h('td', { class: x.state === 'verified' ? 'good' : 'bad', text: x.unverifiable ? 'cannot be checked (no queue ID or date)' : hopStates[x.state] || x.state || '' }))))) : null,
    hops.some((x) => (x.evidence || []).length) ? h('details', {}, h('summary', { text: 'Our log lines for these hops' }), hops.flatMap((x) => evidence(x.evidence))) : null,
    renderResult(j, true));
}

function evidence(list) {
  return (list || []).map((e) => h('div.evidence', {},
    h('pre', { text: e.line }),
    h('div.meta', { text: 'source ' + e.source + ', block ' + e.block_id + ' line ' + e.line_index + ', block SHA-256 ' + e.block_sha256 })));
}

function sessionItem(s) {
  return h('li', {},
    h('strong', { text: 'Session of ' + (s.user_name || 'unknown user') }),
    h('dl.kv', {},
      h('dt', { text: 'Calling-Station-Id' }), h('dd', { class: 'mono', text: s.calling_station_id || '—' }),
      h('dt', { text: 'NAS' }), h('dd', { text: (s.nas_identifier || '') + ' ' + (s.nas_ip || '') + (s.nas_port_id ? ', port ' + s.nas_port_id : '') }),
      h('dt', { text: 'Start' }), h('dd', { text: fmtTime(s.start) + (s.start_seen === false ? ' (estimated: no Start record)' : '') }),
      h('dt', { text: 'Stop' }), h('dd', { text: s.stop ? fmtTime(s.stop) + (s.terminate_cause ? ' (' + s.terminate_cause + ')' : '') : 'no Stop record; last seen ' + fmtTime(s.last_seen) }),
      h('dt', { text: 'Address' }), h('dd', { class: 'mono', text: [s.framed_ip, s.framed_ipv6_prefix, s.delegated_ipv6_prefix].filter(Boolean).join(', ') || '—' }),
      h('dt', { text: 'Session id' }), h('dd', { class: 'mono', text: s.acct_session_id || '—' }),
      s.subscriber ? [h('dt', { text: 'Subscriber' }), h('dd', { text: JSON.stringify(s.subscriber) })] : null),
    h('details', {}, h('summary', { text: 'Evidence lines (' + (s.evidence || []).length + ')' }), evidence(s.evidence)));
}

const verdictWords = {
  exact: 'One session held the address at that instant.',
  none: 'Nobody held the address at that instant in the logs Spoor keeps.',
  ambiguous: 'More than one session could have held it (within the clock tolerance): all are shown.',
  shared_address: 'This is a shared carrier-grade NAT address: the order must name the source port. No subscriber is named.',
};

function renderResult(j, quiet) {
  const out = h('div', { id: 'result-body' });
  const trace = j.session_trace || j;
  if (!quiet && trace.verdict)
    out.append(h('p.verdict', { id: 'verdict', text: 'Verdict: ' + trace.verdict.replace(/_/g, ' ') }), h('p', { text: verdictWords[trace.verdict] || '' }));
  if (j.cgn) {
    const c = j.cgn;
    out.append(h('div.panel', {}, h('h3', { text: 'Carrier-grade NAT' }),
      c.subscribers_sharing !== undefined ? h('p', { id: 'cgn-count', text: c.subscribers_sharing + ' subscribers shared ' + c.public_ip + ' at that instant; none is named.' }) : null,
      (c.translations || []).map((t) => h('div', {}, h('p', { text: c.public_ip + ':' + c.port + ' was translated from inside address ' + t.inside_ip + (t.inside_vrf ? ' (VRF ' + t.inside_vrf + ')' : '') }),
        t.config
          ? h('div.det', {}, h('p', { text: 'Ports ' + t.port_lo + '-' + t.port_hi + ' belong to it by deterministic mapping (RFC 7422): configuration ' + t.config.config_id + ', in force from ' + fmtTime(t.config.valid_from) + (t.config.valid_until ? ' until ' + fmtTime(t.config.valid_until) : '') + ', recorded by ' + t.config.recorded_by + ', confirmed by ' + (t.config.confirmed_by || 'the database superuser alone') + '.' }),
              h('details', {}, h('summary', { text: 'Configuration (SHA-256 ' + t.config.sha256 + ')' }), h('pre.mono', { text: t.config.source })))
          : h('details', {}, h('summary', { text: 'NAT evidence' }), evidence(t.evidence))))));
  }
  for (const s of j.submissions || []) {
    out.append(h('div.panel', {}, h('h3', { text: 'Submission at ' + fmtTime(s.time) }),
      h('dl.kv', {},
        h('dt', { text: 'Server' }), h('dd', { text: s.mta_host }),
        h('dt', { text: 'Client' }), h('dd', { class: 'mono', text: s.client_ip + (s.client_port ? ':' + s.client_port : '') }),
        h('dt', { text: 'Authenticated as' }), h('dd', { text: s.sasl_username || '— (no SMTP authentication)' }),
        h('dt', { text: 'Sender' }), h('dd', { text: s.sender || '—' }),
        h('dt', { text: 'Recipients' }), h('dd', { text: (s.recipients || []).join(', ') || '—' }),
        h('dt', { text: 'Delivery' }), h('dd', { text: s.status || '—' })),
      h('details', {}, h('summary', { text: 'Evidence lines (' + (s.evidence || []).length + ')' }), evidence(s.evidence)),
      s.session_trace ? h('div', {}, h('h3', { text: 'Who held ' + s.client_ip + ' then' }),
        h('p', { text: verdictWords[s.session_trace.verdict] || s.session_trace.verdict }),
        h('ul.timeline', {}, (s.session_trace.sessions || []).map(sessionItem))) : null));
  }
  if (!j.submissions && (trace.sessions || []).length)
    out.append(h('ul.timeline', { id: 'sessions' }, trace.sessions.map(sessionItem)));
  if (j.submissions && !j.submissions.length) out.append(h('p', { text: 'No submission with this Message-ID in the window.' }));
  out.append(h('details', {}, h('summary', { text: 'The answer as Spoor stored it (JSON)' }), h('pre.mono', { text: JSON.stringify(j, null, 2) })));
  return out;
}

function download(blob, name) {
  const a = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function exportPanel(r) {
  if (!['executed', 'disclosed'].includes(r.state)) return null;
  const pkg = async () => {
    let res;
    try { res = await fetch('/v1/requests/' + r.request_id + '/package', { credentials: 'same-origin', headers: { 'X-CSRF-Token': S.csrf } }); } catch (e) {
      notice('Spoor cannot be reached. Check the network connection and try again.'); return;
    }
    if (res.status === 401) { signedOut(explain(401)); return; }
    if (res.status !== 200) {
      const j = await res.json().catch(() => null);
      notice(res.status === 501 ? 'This Spoor installation does not sign packages in the console: ask whoever keeps the signing key to run \u201cspoor request export ' + r.request_id + '\u201d.' : explain(res.status, j));
      return;
    }
    armIdle();
    download(await res.blob(), 'spoor-request-' + r.request_id + '-package.tar');
    notice('The signed package was downloaded. Unpack it and check it with \u201cspoor verify-package\u201d and the ISP\u2019s public key; the export is in the audit trail.', true);
  };
  const go = async () => {
    try {
      const j = await must('GET', '/v1/requests/' + r.request_id + '/export');
      download(new Blob([JSON.stringify(j, null, 2)], { type: 'application/json' }), 'spoor-request-' + r.request_id + '-export.json');
      notice('The export was downloaded. Its contents and this download are in the audit trail.', true);
    } catch (e) { if (e.message) notice(e.message); }
  };
  const mark = async (to) => {
    try { const j = await must('POST', '/v1/requests/' + r.request_id + '/' + to, {}); notice('Request #' + r.request_id + ' is now ' + j.state + '.', true); route(); } catch (e) { if (e.message) notice(e.message); }
  };
  return h('section.panel', { 'aria-labelledby': 'export-h' },
    h('h2', { id: 'export-h', text: 'Disclosure' }),
    h('p.hint', { text: 'The signed package for the court: the results, the verbatim evidence lines, the audit entries, the ETSI TS 102 657 XML and a manifest signed with the ISP\u2019s Ed25519 key, as a tar archive. Making it is recorded in the audit trail.' }),
    h('div.actions', {},
      h('button', { type: 'button', id: 'package', onclick: pkg, text: 'Download the signed package' }),
      h('button.secondary', { type: 'button', id: 'export', onclick: go, text: 'Download the results only (JSON)' }),
      r.state === 'executed' && has('spoor_analyst') ? h('button.secondary', { type: 'button', onclick: () => mark('disclosed'), text: 'Mark as disclosed' }) : null,
      has('spoor_approver') ? h('button.secondary', { type: 'button', onclick: () => mark('close'), text: 'Close the case' }) : null));
}

async function pageNew() {
  if (!has('spoor_analyst')) { put(main(), h('p.explain', { text: 'Only analysts record requests.' })); return; }
  const f = (id, label, attrs, hint) => [h('label', { for: id }, label, hint ? h('span.hint', { text: ' ' + hint }) : null), h('input', Object.assign({ id }, attrs || {}))];
  const rows = h('div', { id: 'scope-rows' });
  const addRow = () => {
    const kind = h('select', { 'aria-label': 'Kind of identifier' },
      h('option', { value: 'ip', text: 'IP address' }), h('option', { value: 'message_id', text: 'Message-ID' }), h('option', { value: 'user_name', text: 'User name' }));
    const value = h('input.value', { 'aria-label': 'Identifier, exactly as the order names it', required: true });
    const port = h('input.port', { type: 'number', min: 0, max: 65535, 'aria-label': 'Source port (for an address behind carrier-grade NAT)', placeholder: 'port' });
    kind.addEventListener('change', () => { port.hidden = kind.value !== 'ip'; });
    const row = h('div.scope-row', {}, kind, value, port, h('button.secondary', { type: 'button', onclick: () => row.remove(), text: 'Remove' }));
    rows.append(row);
    value.focus();
  };
  const form = h('form', { 'aria-labelledby': 'new-h', novalidate: true },
    h('h1', { id: 'new-h', text: 'Record a request' }),
    h('div.grid', {},
      h('div', {}, f('case_ref', 'Case reference', { required: true }), f('authority', 'Authority', { required: true }, '(court or agency)'),
        f('legal_basis', 'Legal basis', { required: true }, '(the law or order)'), f('contact', 'Contact', {})),
      h('div', {}, h('label', { for: 'kind', text: 'Kind' }), h('select', { id: 'kind' }, h('option', { value: 'disclosure', text: 'Disclosure' }), h('option', { value: 'preservation', text: 'Preservation (a legal hold)' })),
        f('window_lo', 'Window from', { type: 'datetime-local', step: 1, required: true }, '(UTC)'),
        f('window_hi', 'Window to', { type: 'datetime-local', step: 1, required: true }, '(UTC)'),
        f('deadline', 'Deadline', { type: 'datetime-local', step: 1 }, '(UTC, optional)'),
        f('max_lookups', 'Most lookups allowed', { type: 'number', min: 1, max: 1000, value: 20 }),
        h('label', {}, h('input', { id: 'subscriber_data', type: 'checkbox' }), ' The order covers subscriber identity (name, address)'))),
    h('h2', { text: 'What the order names' }),
    h('p.hint', { text: 'Each identifier exactly as the order names it: single addresses (with the source port where the address is shared behind carrier-grade NAT), Message-IDs, user names. No wildcards or ranges: a targeted search, not a blanket one.' }),
    rows,
    h('div.actions', {}, h('button.secondary', { type: 'button', id: 'add-scope', onclick: addRow, text: 'Add an identifier' })),
    h('div.actions', {}, h('button', { type: 'submit', id: 'create', text: 'Record the request' })));
  addRow();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = (id) => form.querySelector('#' + id).value.trim();
    const missing = ['case_ref', 'authority', 'legal_basis', 'window_lo', 'window_hi'].filter((id) => !v(id));
    if (missing.length) { notice('Please fill in: ' + missing.map((m) => form.querySelector('label[for=' + m + ']').firstChild.textContent.trim()).join(', ') + '.'); return; }
    const scope = [];
    for (const row of rows.children) {
      const [kind, value, port] = row.querySelectorAll('select, input');
      const val = value.value.trim();
      if (!val) continue;
      if (/[*%?]/.test(val)) { notice('An identifier cannot contain wildcards (' + val + '): the order must name it exactly.'); value.focus(); return; }
      if (kind.value === 'ip' && !/^[0-9a-fA-F:.]+$/.test(val)) { notice('"' + val + '" is not a single IP address.'); value.focus(); return; }
      const s = { kind: kind.value, value: val };
      if (kind.value === 'ip' && port.value !== '') s.port = Number(port.value);
      scope.push(s);
    }
    if (!scope.length) { notice('Name at least one identifier from the order.'); return; }
    const body = {
      case_ref: v('case_ref'), authority: v('authority'), legal_basis: v('legal_basis'), contact: v('contact') || undefined,
      kind: v('kind'), window_lo: utcInput(v('window_lo')), window_hi: utcInput(v('window_hi')),
      deadline: v('deadline') ? utcInput(v('deadline')) : undefined, max_lookups: Number(v('max_lookups') || 20), scope,
      options: { subscriber_data: form.querySelector('#subscriber_data').checked },
    };
    try {
      const { http, j } = await api('POST', '/v1/requests', body);
      if (http !== 200 || !j || j.status !== 'ok') { notice(explain(http, j)); return; }
      notice('Request #' + j.request_id + ' was recorded. A second person, an approver, must now approve it.', true);
      S.flash = true; /* kept over the page change */
      location.hash = '#/cases/' + j.request_id;
    } catch (e) { if (e.message) notice(e.message); }
  });
  put(main(), form);
}

async function pageHolds() {
  const j = await must('GET', '/v1/holds');
  const holds = j.holds || [];
  const act = async (id, what) => {
    const note = prompt(what === 'renew' ? 'Why renew this hold?' : 'Why release this hold? (A second person must confirm a release.)');
    if (note === null) return;
    const body = what === 'renew' ? { note, days: Number(prompt('Renew for how many days (1 to 90)?', '90') || 0) } : { note };
    try {
      const r = await must('POST', '/v1/holds/' + id + '/' + what, body);
      notice(r.release ? 'Release ' + r.release + '.' : (what === 'renew' ? 'Hold ' + id + ' now runs until ' + fmtTime(r.expires_at) + '.' : 'Hold ' + id + ' is ' + r.state + '.'), true);
      route();
    } catch (e) { if (e.message) notice(e.message); }
  };
  put(main(), h('h1', { text: 'Legal holds' }),
    h('p.hint', { text: 'A hold keeps data the retention rules would otherwise delete. Releasing one needs two people.' }),
    holds.length ? h('table', {}, h('thead', {}, h('tr', {}, ['Hold', 'Case', 'Keeps', 'Until', 'State', ''].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, holds.map((x) => h('tr', {}, h('td', { text: x.hold_id }),
        h('td', {}, x.request_id ? h('a', { href: '#/cases/' + x.request_id, text: '#' + x.request_id + ' ' + (x.case_ref || '') }) : '—'),
        h('td', { text: (x.mode === 'days' ? 'whole days ' : 'the records found ') + fmtTime(x.window_lo) + ' to ' + fmtTime(x.window_hi) }),
        h('td', { text: fmtTime(x.expires_at) }),
        h('td', { text: x.state + (x.release_requested_by ? ' (release asked by ' + x.release_requested_by + ', a second person must confirm)' : '') }),
        h('td', {}, ['spoor_analyst', 'spoor_approver'].some(has) ? h('div.actions', {}, h('button.secondary', { type: 'button', onclick: () => act(x.hold_id, 'renew'), text: 'Renew' }),
          h('button.danger', { type: 'button', onclick: () => act(x.hold_id, 'release'), text: 'Release' })) : null))))) : h('p', { text: 'No legal holds.' }));
}

function barChart(title, data) {
  const NS = 'http://www.w3.org/2000/svg';
  const entries = Object.entries(data || {});
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const rowH = 26, labelW = 280, barW = 380;
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('viewBox', '0 0 ' + (labelW + barW + 60) + ' ' + (entries.length * rowH + 10));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title + ': ' + entries.map(([k, n]) => k + ' ' + n).join(', '));
  entries.forEach(([k, n], i) => {
    const y = 5 + i * rowH;
    const t = document.createElementNS(NS, 'text');
    t.setAttribute('x', labelW - 8); t.setAttribute('y', y + 16); t.setAttribute('text-anchor', 'end'); t.textContent = k;
    const r = document.createElementNS(NS, 'rect');
    r.setAttribute('x', labelW); r.setAttribute('y', y + 3); r.setAttribute('height', rowH - 8); r.setAttribute('width', Math.max(2, (n / max) * barW));
    const v = document.createElementNS(NS, 'text');
    v.setAttribute('x', labelW + (n / max) * barW + 6); v.setAttribute('y', y + 16); v.textContent = n;
    svg.append(t, r, v);
  });
  return h('figure', {}, h('figcaption', { text: title }), svg);
}

async function pageReport(year) {
  year = year || new Date().getUTCFullYear();
  const j = await must('GET', '/v1/report?year=' + year);
  const f = j.figures || {};
  const sel = h('input', { id: 'year', type: 'number', min: 2000, max: 2100, value: year });
  const form = h('form.row', {}, h('div', {}, h('label', { for: 'year', text: 'Year' }), sel), h('div', {}, h('button', { type: 'submit', text: 'Show' })));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); location.hash = '#/report/' + sel.value; });
  put(main(), h('h1', { text: 'Yearly report ' + year }), form,
    h('div.grid', {},
      h('div.panel', {}, h('h2', { text: 'Requests' }), h('dl.kv', {},
        ['received', 'approved', 'rejected', 'cancelled', 'expired', 'disclosed'].flatMap((k) => [h('dt', { text: k }), h('dd', { text: f[k] || 0 })]))),
      h('div.panel', {}, h('h2', { text: 'Lookups' }), h('dl.kv', {},
        h('dt', { text: 'done' }), h('dd', { text: f.lookups || 0 }), h('dt', { text: 'refused by the gate' }), h('dd', { text: f.lookups_denied || 0 }),
        h('dt', { text: 'subscriber identities revealed' }), h('dd', { text: f.subscriber_reveals || 0 }),
        h('dt', { text: 'active legal holds' }), h('dd', { text: j.active_holds || 0 })))),
    barChart('Requests by authority', f.by_authority), barChart('Requests by legal basis', f.by_legal_basis));
}

/* The chain's check recomputes every entry: on request, not on every visit. */
async function verifyChain(slot) {
  put(slot, h('p', { text: 'Checking the chain…' }));
  const v = await must('GET', '/v1/audit/verify').catch((e) => ({ error: e.message }));
  put(slot, v.error ? h('p.refused', { text: v.error })
    : v.intact ? h('p.good', { id: 'audit-status', text: 'The chain is intact: all ' + v.entries + ' entries recompute and follow each other (head ' + v.head.slice(0, 16) + '…, checked ' + fmtTime(v.checked_at) + ').' })
      : h('p.refused', { id: 'audit-status', text: 'The chain is BROKEN at entry ' + v.first_broken + ': ' + v.reason + '. Tell the data-protection officer.' }));
}

async function pageAudit(request) {
  const j = await must('GET', '/v1/audit' + (request ? '?request=' + request : ''));
  const filter = h('input', { id: 'audit-request', type: 'number', min: 1, value: request || '' });
  const form = h('form.row', {}, h('div', {}, h('label', { for: 'audit-request', text: 'Only case number' }), filter), h('div', {}, h('button', { type: 'submit', text: 'Filter' })));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); location.hash = '#/audit' + (filter.value ? '/' + filter.value : ''); });
  const status = h('div', { id: 'audit-check', 'aria-live': 'polite' },
    h('button', { type: 'button', id: 'audit-verify', onclick: () => verifyChain(status), text: 'Verify the chain' }));
  put(main(), h('h1', { text: 'Audit trail' }), status,
    h('p.hint', {}, 'The independent check (outside the database, against the signed checkpoint) is ', h('code', { text: 'spoor audit verify' }), '.'),
    form,
    h('table', {}, h('thead', {}, h('tr', {}, ['#', 'When', 'Who', 'What', 'Case', 'Outcome'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, (j.entries || []).slice().reverse().map((a) => h('tr', {}, h('td', { text: a.seq }), h('td', { text: fmtTime(a.at) }), h('td', { text: a.actor }),
        h('td', { text: a.action }), h('td', {}, a.request_id ? h('a', { href: '#/cases/' + a.request_id, text: '#' + a.request_id }) : '—'),
        h('td', { class: a.outcome === 'ok' ? 'good' : 'bad', text: a.outcome }))))));
}

/* ---- routing ---- */

async function route() {
  if (!S.person) return;
  if (location.hash && !location.hash.startsWith('#/')) return; /* the skip link */
  const parts = (location.hash || '#/cases').slice(2).split('/');
  const page = parts[0] || 'cases';
  /* A link from elsewhere that names a case does not open it by itself:
     opening a case is recorded under the person's name. */
  if (S.askBeforeOpening && page === 'cases' && parts[1]) {
    S.askBeforeOpening = false;
    put(main(), h('div.panel', {}, h('h1', { text: 'Open case #' + Number(parts[1]) + '?' }),
      h('p', { text: 'You followed a link to this case. Opening it is recorded in the audit trail under your name.' }),
      h('div.actions', {}, h('button', { type: 'button', id: 'open-case', onclick: route, text: 'Open the case' }),
        h('a', { href: '#/cases', text: 'Back to the cases' }))));
    return;
  }
  S.askBeforeOpening = false;
  for (const a of document.querySelectorAll('#nav a'))
    a.toggleAttribute('aria-current', a.dataset.page === page) || a.removeAttribute('aria-current');
  for (const a of document.querySelectorAll('#nav a[aria-current]')) a.setAttribute('aria-current', 'page');
  try {
    if (page === 'cases' && parts[1]) await pageCase(Number(parts[1]));
    else if (page === 'cases') await pageCases();
    else if (page === 'new') await pageNew();
    else if (page === 'holds') await pageHolds();
    else if (page === 'report') await pageReport(Number(parts[1]) || 0);
    else if (page === 'audit') await pageAudit(Number(parts[1]) || 0);
    else put(main(), h('p', { text: 'No such page.' }));
    document.title = 'Spoor: ' + (main().querySelector('h1') || { textContent: 'console' }).textContent;
    main().focus({ preventScroll: true });
  } catch (e) {
    if (e.message) put(main(), h('p.refused', { text: e.message }));
  }
}

async function start() {
  $('#signout').addEventListener('click', async () => {
    await api('POST', '/v1/session/end', {}).catch(() => null);
    signedOut('You are signed out.');
    history.replaceState(null, '', '#/signin');
  });
  window.addEventListener('hashchange', () => { if (!S.flash) notice(''); S.flash = false; route(); });
  S.askBeforeOpening = true;
  const { http, j } = await api('GET', '/v1/session').catch(() => ({ http: 0 }));
  if (http === 200 && j && j.status === 'ok') { setSession(j); route(); } else showSignIn('');
}
document.addEventListener('DOMContentLoaded', start);
