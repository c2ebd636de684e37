// Eagle Eye console: plain ES module, no build step. Every value from the server is put in the page
// with textContent (never as HTML). The server only ever sends pseudonyms; the page shortens them.

const KIND = {
  victim_on_call: 'Victim on a call with a suspect',
  post_call: 'Victim talked to a suspect (call ended)',
  suspect_number: 'Suspect number to re-verify',
};
const STATE = { open: 'Open', claimed: 'Claimed', escalated: 'With police', closed: 'Closed' };
const OUTCOME = {
  dissuaded: 'Dissuaded',
  victim_unreachable: 'Victim unreachable',
  false_positive: 'False positive',
  confirmed_fraud: 'Confirmed fraud',
};
const POLICE_REASON = {
  critical: 'critical',
  suspect_number: 'suspect number',
  unclaimed: 'not claimed in time',
  escalated: 'escalated by hand',
};

const session = {
  token: sessionStorage.getItem('ee.token'),
  user: JSON.parse(sessionStorage.getItem('ee.user') || 'null'),
};
const alerts = new Map(); // id -> AlertView (the newest seq wins)
let lastSeq = 0;
let selectedId = null;
let socket = null;

const $ = (sel) => document.querySelector(sel);

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** replaceChildren without the nulls and falses of optional parts (it would print them). */
function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      ...(session.token ? { authorization: `Bearer ${session.token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== '/api/auth/login') {
    signOut('Your session ended; please sign in again.');
    throw new Error('signed out');
  }
  if (!res.ok)
    throw new Error(Array.isArray(data.message) ? data.message.join('; ') : data.message || res.statusText);
  return data;
}

// ---------- formatting

function shortToken(t) {
  if (!t) return '—';
  const parts = t.split('.');
  const d = parts[2] || t;
  return `${parts[0]}.${parts[1]}.${d.slice(0, 4)}…${d.slice(-4)}`;
}
function tokenEl(t) {
  return h('span', { class: 'token', title: t || '' }, shortToken(t));
}
function duration(s) {
  s = Math.max(0, Math.floor(s));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
function ago(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleString();
}
function timerEl(a) {
  if (!a.callAnsweredAt) return h('span', { class: 'muted' }, '—');
  if (a.callEndedAt || a.talkTimeS !== null) {
    const talk = a.talkTimeS ?? (Date.parse(a.callEndedAt) - Date.parse(a.callAnsweredAt)) / 1000;
    return h('span', { class: 'timer ended', title: 'call ended' }, `ended after ${duration(talk)}`);
  }
  return h(
    'span',
    { class: 'timer', 'data-answered': a.callAnsweredAt, title: 'call still in progress' },
    duration((Date.now() - Date.parse(a.callAnsweredAt)) / 1000),
  );
}
function stateEl(a) {
  const label = a.outcome ? OUTCOME[a.outcome] : STATE[a.state];
  return h(
    'span',
    {},
    h('span', { class: 'badge state' }, label),
    a.claimedBy && a.state === 'claimed' ? h('div', { class: 'muted' }, a.claimedBy) : null,
  );
}
function scopeText(u) {
  if (u.role === 'carrier_operator') return `${u.carrierId} fraud desk`;
  if (u.role === 'police_officer') return `police, region ${u.regions.join(', ')}`;
  return u.role;
}

// ---------- views

function show(section) {
  for (const id of ['login', 'queue', 'lists', 'rules']) $(`#${id}`).hidden = id !== section;
  $('.topbar').hidden = section === 'login';
  for (const a of document.querySelectorAll('[data-nav]'))
    a.classList.toggle('active', a.dataset.nav === section);
}

function route() {
  if (!session.token) return show('login');
  const page = (location.hash.replace('#/', '') || 'queue').split('/')[0];
  if (page === 'lists') return showLists();
  if (page === 'rules') return showRules();
  show('queue');
}

// ---------- login

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  $('#login-error').textContent = '';
  try {
    const r = await api('POST', '/api/auth/login', {
      username: f.get('username'),
      password: f.get('password'),
    });
    session.token = r.token;
    session.user = r.user;
    sessionStorage.setItem('ee.token', r.token);
    sessionStorage.setItem('ee.user', JSON.stringify(r.user));
    e.target.reset();
    await start();
  } catch (err) {
    $('#login-error').textContent = err.message;
  }
});
$('#logout').addEventListener('click', () => {
  // end the session on the server too (its token stops working at once), then forget it here
  if (session.token) void api('POST', '/api/auth/logout').catch(() => undefined);
  signOut();
});

function signOut(message) {
  socket?.disconnect();
  socket = null;
  session.token = null;
  session.user = null;
  sessionStorage.removeItem('ee.token');
  sessionStorage.removeItem('ee.user');
  alerts.clear();
  lastSeq = 0;
  selectedId = null;
  $('#login-error').textContent = message || '';
  show('login');
}

// ---------- the live queue

async function start() {
  const u = session.user;
  $('#whoami').textContent = `${u.displayName || u.username} · ${scopeText(u)}`;
  for (const el of document.querySelectorAll('[data-roles]'))
    el.hidden = !el.dataset.roles.split(' ').includes(u.role);
  $('#queue-title').textContent = u.role === 'police_officer' ? 'Alerts for your jurisdiction' : 'Alerts';
  if (u.role === 'police_officer' && u.regions.length > 1) {
    $('#region-filter').hidden = false;
    $('#region').replaceChildren(
      h('option', { value: '' }, 'all my regions'),
      ...u.regions.map((r) => h('option', { value: r }, r)),
    );
  }
  await loadQueue();
  connect();
  route();
}

async function loadQueue() {
  const page = await api('GET', '/api/alerts?limit=200');
  alerts.clear();
  for (const a of page.items) alerts.set(a.id, a);
  lastSeq = Math.max(lastSeq, page.seq);
  render();
}

function connect() {
  socket?.disconnect();
  // auth as a function: every reconnect sends the newest seq seen, and the server replays the rest
  socket = io('/alerts', { transports: ['websocket'], auth: (cb) => cb({ token: session.token, lastSeq }) });
  socket.on('connect', () => setLive(true));
  socket.on('disconnect', (reason) => {
    setLive(false);
    // the server closed it: session ended (then /api/auth/me answers 401 and we sign out) or the
    // scope changed (then we reload who we are and the queue, and reconnect)
    if (reason === 'io server disconnect' && session.token) setTimeout(() => void restart(), 500);
  });
  socket.on('connect_error', (err) => {
    setLive(false);
    if (/unauthorized/.test(err.message)) signOut('Your session ended; please sign in again.');
  });
  socket.on('alert.created', (a) => upsert(a, true));
  socket.on('alert.updated', (a) => upsert(a, false));
}

async function restart() {
  try {
    const me = await api('GET', '/api/auth/me');
    session.user = me;
    sessionStorage.setItem('ee.user', JSON.stringify(me));
    await start();
  } catch {
    // signed out by api() on 401; otherwise stay offline until the next action
  }
}

function setLive(on) {
  const el = $('#live');
  el.className = `live ${on ? 'on' : 'off'}`;
  el.textContent = on ? 'live' : 'reconnecting…';
}

const fresh = new Set();
function upsert(a, created) {
  const had = alerts.get(a.id);
  lastSeq = Math.max(lastSeq, a.seq);
  if (had && had.seq >= a.seq) return; // a replayed or repeated event
  alerts.set(a.id, a);
  if (created || !had) {
    fresh.add(a.id);
    setTimeout(() => fresh.delete(a.id), 3000);
  }
  render();
  if (a.id === selectedId) void openDetail(a.id);
}

const SEV = { critical: 2, warning: 1 };
function sorted() {
  const showClosed = $('#show-closed').checked;
  const region = $('#region').value;
  return [...alerts.values()]
    .filter((a) => (showClosed || a.state !== 'closed') && (!region || a.region === region))
    .sort(
      (x, y) =>
        (x.state === 'closed') - (y.state === 'closed') ||
        SEV[y.severity] - SEV[x.severity] ||
        Date.parse(y.raisedAt) - Date.parse(x.raisedAt),
    );
}

function render() {
  const rows = sorted().map((a) =>
    h(
      'tr',
      {
        'data-id': a.id,
        class: [
          a.id === selectedId && 'selected',
          a.state === 'closed' && 'closed',
          fresh.has(a.id) && 'fresh',
        ]
          .filter(Boolean)
          .join(' '),
        onclick: () => void openDetail(a.id),
      },
      h(
        'td',
        {},
        h('span', { class: `badge ${a.severity}` }, a.severity === 'critical' ? 'Critical' : 'Warning'),
      ),
      h(
        'td',
        {},
        KIND[a.kind],
        a.routedToPolice ? h('div', {}, h('span', { class: 'badge police' }, 'police')) : null,
      ),
      h('td', {}, a.victim ? tokenEl(a.victim) : h('span', { class: 'muted' }, '—')),
      h('td', {}, a.region ?? '—'),
      h('td', {}, timerEl(a)),
      h('td', { title: new Date(a.raisedAt).toLocaleString() }, ago(a.raisedAt)),
      h('td', {}, stateEl(a)),
    ),
  );
  $('#alert-rows').replaceChildren(...rows);
  $('#empty').hidden = rows.length > 0;
}

$('#show-closed').addEventListener('change', render);
$('#region').addEventListener('change', render);

// The call timers tick every second without re-rendering the table.
setInterval(() => {
  for (const el of document.querySelectorAll('[data-answered]')) {
    el.textContent = duration((Date.now() - Date.parse(el.dataset.answered)) / 1000);
  }
}, 1000);

// ---------- detail and actions

async function openDetail(id) {
  selectedId = id;
  render();
  let a;
  try {
    a = await api('GET', `/api/alerts/${id}`);
  } catch (err) {
    $('#detail').replaceChildren(h('p', { class: 'error' }, err.message));
    return;
  }
  const u = session.user;
  const works = u.role !== 'admin';
  const mine = a.state === 'claimed' && a.claimedBy === u.username;
  const act = (label, cls, fn) =>
    h(
      'button',
      {
        class: cls,
        onclick: async (e) => {
          e.target.disabled = true;
          try {
            await fn();
            $('#action-error').textContent = '';
          } catch (err) {
            $('#action-error').textContent = err.message;
          } finally {
            e.target.disabled = false;
          }
        },
      },
      label,
    );
  const actions = [];
  if (works && (a.state === 'open' || a.state === 'escalated')) {
    actions.push(
      act('Claim: I will call the victim', 'primary', () => api('POST', `/api/alerts/${id}/claim`)),
    );
  }
  if (works && (mine || (u.role === 'supervisor' && a.state !== 'closed'))) {
    for (const [k, label] of Object.entries(OUTCOME)) {
      actions.push(
        act(label, k === 'confirmed_fraud' ? 'danger' : '', () =>
          api('POST', `/api/alerts/${id}/outcome`, { outcome: k }),
        ),
      );
    }
  }
  if (
    (u.role === 'carrier_operator' || u.role === 'supervisor') &&
    a.state !== 'closed' &&
    a.state !== 'escalated'
  ) {
    actions.push(
      act('Escalate to police', 'quiet', () =>
        api('POST', `/api/alerts/${id}/escalate`, { reason: 'escalated from the console' }),
      ),
    );
  }
  const noteInput = h('input', { placeholder: 'Add a note (no phone numbers)', maxlength: 2000 });
  const noteForm = works
    ? h(
        'form',
        {
          class: 'note-form',
          onsubmit: async (e) => {
            e.preventDefault();
            try {
              await api('POST', `/api/alerts/${id}/notes`, { text: noteInput.value });
              void openDetail(id);
            } catch (err) {
              $('#action-error').textContent = err.message;
            }
          },
        },
        noteInput,
        h('button', {}, 'Add'),
      )
    : null;
  $('#detail').hidden = false;
  $('#queue .split').classList.remove('no-detail');
  fill(
    $('#detail'),
    h(
      'h2',
      {},
      h('span', { class: `badge ${a.severity}` }, a.severity === 'critical' ? 'Critical' : 'Warning'),
      ' ',
      KIND[a.kind],
    ),
    h(
      'dl',
      {},
      h('dt', {}, 'Victim'),
      h('dd', {}, a.victim ? tokenEl(a.victim) : '—'),
      h('dt', {}, 'Suspect'),
      h('dd', {}, tokenEl(a.suspect)),
      h('dt', {}, 'Carrier'),
      h('dd', {}, a.carrierId),
      h('dt', {}, 'Region'),
      h('dd', {}, a.region ?? '—'),
      h('dt', {}, 'On the call'),
      h('dd', {}, timerEl(a)),
      h('dt', {}, 'Raised'),
      h('dd', {}, new Date(a.raisedAt).toLocaleString()),
      h('dt', {}, 'Score'),
      h('dd', {}, String(Math.round(a.score))),
      h('dt', {}, 'State'),
      h('dd', {}, stateEl(a)),
      a.routedToPolice
        ? [
            h('dt', {}, 'Police'),
            h('dd', {}, `routed: ${POLICE_REASON[a.policeReason] ?? a.policeReason ?? 'yes'}`),
          ]
        : null,
    ),
    h('h3', {}, 'Why'),
    h(
      'ul',
      { class: 'reasons' },
      a.reasons.map((r) =>
        h(
          'li',
          { class: r.reportOnly ? 'report-only' : '' },
          h('span', { class: 'pts' }, `${r.points > 0 ? '+' : ''}${r.points}`),
          r.text,
          r.reportOnly ? h('span', { class: 'muted' }, ' (report-only rule)') : null,
        ),
      ),
    ),
    h('div', { class: 'actions' }, actions),
    h('p', { id: 'action-error', class: 'error', role: 'alert' }),
    noteForm,
    a.notes.length ? h('h3', {}, 'Notes') : null,
    a.notes.length
      ? h(
          'ul',
          { class: 'history' },
          a.notes.map((n) => h('li', {}, `${new Date(n.at).toLocaleTimeString()} ${n.author}: ${n.text}`)),
        )
      : null,
    h('h3', {}, 'History'),
    h(
      'ul',
      { class: 'history' },
      a.history.map((x) => h('li', {}, `${new Date(x.at).toLocaleTimeString()} ${x.action} (${x.actor})`)),
    ),
  );
}

// ---------- lists and rules

async function showLists() {
  show('lists');
  const u = session.user;
  $('#list-form').hidden = !['police_officer', 'supervisor', 'admin'].includes(u.role);
  const entries = await api('GET', '/api/lists');
  $('#list-rows').replaceChildren(
    ...entries.map((e) =>
      h(
        'tr',
        {},
        h(
          'td',
          {},
          h(
            'span',
            { class: `badge ${e.list === 'black' ? 'critical' : e.list === 'gray' ? 'warning' : 'state'}` },
            e.list,
          ),
        ),
        h('td', {}, tokenEl(e.numberToken)),
        h('td', {}, e.scope),
        h('td', {}, e.reason),
        h('td', {}, `${new Date(e.addedAt).toLocaleDateString()} by ${e.addedBy}`),
        h('td', {}, e.expiresAt ? new Date(e.expiresAt).toLocaleDateString() : 'never'),
      ),
    ),
  );
  const canSeeCandidates = u.role !== 'police_officer';
  $('#candidates').hidden = $('#candidates-title').hidden = !canSeeCandidates;
  if (canSeeCandidates) {
    const rows = await api('GET', '/api/lists/whitelist-candidates');
    $('#candidate-rows').replaceChildren(
      ...rows.map((c) =>
        h(
          'tr',
          {},
          h('td', {}, c.carrierId),
          h('td', {}, tokenEl(c.suspect)),
          h('td', {}, String(c.falsePositives)),
          h('td', {}, c.lastAlertId),
        ),
      ),
    );
  }
}

$('#list-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const expires = f.get('expiresAt');
  // refused here already, so a clear number typed by mistake is never even sent
  if (!/^p1\.[A-Za-z0-9_-]{1,16}\.[A-Za-z0-9_-]{22}$/.test(f.get('numberToken').trim())) {
    $('#list-error').textContent = 'enter the number token (p1.…), never a clear number';
    return;
  }
  try {
    await api('POST', '/api/lists', {
      list: f.get('list'),
      numberToken: f.get('numberToken').trim(),
      scope: f.get('scope') || '*',
      reason: f.get('reason'),
      ...(expires ? { expiresAt: new Date(`${expires}T23:59:59Z`).toISOString() } : {}),
    });
    e.target.reset();
    $('#list-error').textContent = '';
    await showLists();
  } catch (err) {
    $('#list-error').textContent = err.message;
  }
});

async function showRules() {
  show('rules');
  const [set, precision] = await Promise.all([api('GET', '/api/rules'), api('GET', '/api/rules/precision')]);
  $('#rules-version').textContent = String(set.version);
  const prec = new Map(precision.map((p) => [p.rule, p]));
  const admin = ['admin', 'supervisor'].includes(session.user.role);
  $('#rule-rows').replaceChildren(
    ...Object.entries(set.global).map(([id, r]) => {
      const p = prec.get(id);
      return h(
        'tr',
        {},
        h('td', {}, id),
        h('td', {}, set.catalog[id]?.description ?? ''),
        h('td', {}, r.enabled ? 'yes' : 'no'),
        h('td', {}, r.reportOnly ? 'yes' : 'no'),
        h('td', {}, String(r.points)),
        h(
          'td',
          { title: p ? `${p.closed} closed alerts, ${p.falsePositives} false positives` : '' },
          p && p.precision !== null ? `${Math.round(p.precision * 100)} % of ${p.closed}` : '—',
        ),
        h(
          'td',
          {},
          admin
            ? h(
                'button',
                {
                  class: 'quiet',
                  onclick: async () => {
                    const reason = prompt(`Why ${r.reportOnly ? 'enforce' : 'make report-only'} rule ${id}?`);
                    if (!reason) return;
                    await api('PATCH', `/api/rules/${id}`, { reportOnly: !r.reportOnly, reason });
                    await showRules();
                  },
                },
                r.reportOnly ? 'Enforce' : 'Report only',
              )
            : null,
        ),
      );
    }),
  );
}

window.addEventListener('hashchange', () => void (session.token ? route() : show('login')));
if (session.token) void start().catch(() => signOut());
else show('login');
