// The agents' inbox. Plain JavaScript, no framework. Citizen text is put on
// the page with textContent only, never as HTML.
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const ACTION = {
    urgent: { label: '紧急', cls: 'urgent' },
    dispatch: { label: '派警', cls: 'dispatch' },
    handoff: { label: '人工', cls: 'handoff' },
    self_help: { label: '咨询', cls: 'selfhelp' },
  };
  const REMIND_EVERY = 5000; // ms between reminders while an urgent ticket waits

  let state = { agent: '', tickets: [], canned: [], notify: {}, signals: {} };
  let selected = '';
  let ws = null;
  let retry = 0;
  let refreshTimer = 0;
  let reminder = 0;
  let audio = null;
  let known = null; // ids of urgent tickets already announced
  const seen = new Set(); // outbox ids of events already handled

  function el(tag, cls, txt) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (txt !== undefined && txt !== null) e.textContent = txt;
    return e;
  }

  function toast(msg, bad) {
    const t = $('toast');
    t.textContent = msg;
    t.className = 'toast' + (bad ? ' bad' : '');
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
  }

  async function api(method, path, body) {
    const res = await fetch('/agent/api/' + path, {
      method: method,
      credentials: 'same-origin',
      headers: { 'X-Requested-With': 'deskbot', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await res.json(); } catch (e) { /* no body */ }
    if (res.status === 401 && path !== 'signin') {
      showSignIn();
    }
    if (!res.ok) {
      const err = new Error((data && data.error) || ('HTTP ' + res.status));
      err.status = res.status;
      throw err;
    }
    return data;
  }

  // --- sound and notifications -------------------------------------------

  function unlockAudio() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === 'suspended') audio.resume();
    } catch (e) { audio = null; }
  }

  // beep plays a short two-tone alarm; loud plays it longer and louder.
  function beep(loud) {
    if (!audio) unlockAudio();
    if (!audio) return;
    const t0 = audio.currentTime + 0.02;
    const n = loud ? 4 : 2;
    for (let i = 0; i < n; i++) {
      const o = audio.createOscillator();
      const g = audio.createGain();
      const t = t0 + i * 0.22;
      o.type = 'square';
      o.frequency.value = i % 2 ? 660 : 880;
      g.gain.setValueAtTime(0.0001, t);
      g.gain.exponentialRampToValueAtTime(loud ? 0.35 : 0.18, t + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + 0.18);
      o.connect(g).connect(audio.destination);
      o.start(t);
      o.stop(t + 0.2);
    }
  }

  function notify(tk) {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    try {
      const n = new Notification('紧急事件 ' + tk.id + ' 待接手', {
        body: (tk.title || tk.intent || '') + ' · ' + place(tk.location),
        tag: 'deskbot-' + tk.id,
        requireInteraction: true,
      });
      n.onclick = () => { window.focus(); select(tk.id); n.close(); };
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
  }

  function askPermission() {
    unlockAudio();
    if ('Notification' in window && Notification.permission === 'default') {
      Notification.requestPermission().then(alertsButton);
    }
    alertsButton();
  }

  function alertsButton() {
    const b = $('alerts-btn');
    const granted = 'Notification' in window && Notification.permission === 'granted';
    b.textContent = granted ? '提醒已开启' : '开启提醒';
    b.classList.toggle('on', granted);
  }

  function urgentWaiting() {
    return state.tickets.filter((v) => v.ticket.action === 'urgent' && v.ticket.state === 'open');
  }

  // updateAlert shows the banner and keeps reminding while any urgent
  // ticket is unclaimed; it also announces urgent tickets not seen before.
  function updateAlert() {
    const waiting = urgentWaiting();
    const ids = new Set(waiting.map((v) => v.ticket.id));
    const fresh = known === null ? [] : waiting.filter((v) => !known.has(v.ticket.id));
    known = new Set([...(known || []), ...ids]);
    fresh.forEach((v) => notify(v.ticket));
    if (fresh.length) beep(false);

    const banner = $('alert');
    banner.hidden = waiting.length === 0;
    document.body.classList.toggle('alarm', waiting.length > 0);
    if (waiting.length) {
      $('alert-text').textContent = waiting.length === 1
        ? '紧急事件 ' + waiting[0].ticket.id + '(' + (waiting[0].ticket.title || '') + ')尚未接手,请立即处理'
        : waiting.length + ' 件紧急事件尚未接手,请立即处理';
      document.title = '(' + waiting.length + ')紧急 · 坐席工作台';
      if (!reminder) reminder = setInterval(() => beep(true), REMIND_EVERY);
    } else {
      document.title = '坐席工作台 · 110 网上服务台';
      clearInterval(reminder);
      reminder = 0;
    }
  }

  // --- rendering -----------------------------------------------------------

  function place(loc) {
    if (!loc || loc.unknown) return '地点不明';
    const parts = [];
    if (loc.text) parts.push(loc.text);
    if (loc.has_coords) parts.push('(' + Number(loc.lat).toFixed(5) + ', ' + Number(loc.lon).toFixed(5) + ')');
    return parts.length ? parts.join(' ') : '地点未说明';
  }

  function ago(iso) {
    const d = new Date(iso);
    const s = Math.round((Date.now() - d.getTime()) / 1000);
    if (s < 0 || isNaN(s)) return d.toLocaleString('zh-CN', { hour12: false });
    if (s < 60) return '刚刚';
    if (s < 3600) return Math.floor(s / 60) + ' 分钟前';
    if (s < 86400) return Math.floor(s / 3600) + ' 小时前';
    return d.toLocaleString('zh-CN', { hour12: false });
  }

  function stateLabel(tk) {
    if (tk.state === 'claimed') return '已接手 · ' + tk.claimed_by;
    if (tk.state === 'open') return '待接手';
    return { resolved: '已办结', withdrawn: '已撤销' }[tk.state] || tk.state;
  }

  function badge(node, action) {
    const a = ACTION[action] || { label: action, cls: '' };
    node.textContent = a.label;
    node.className = 'badge ' + a.cls;
  }

  function renderList() {
    const ol = $('tickets');
    ol.replaceChildren();
    state.tickets.forEach((v) => {
      const tk = v.ticket;
      const li = el('li', 'ticket ' + ((ACTION[tk.action] || {}).cls || ''));
      li.dataset.id = tk.id;
      li.tabIndex = 0;
      if (tk.id === selected) li.classList.add('selected');
      if (tk.state === 'open') li.classList.add('unclaimed');
      const top = el('div', 'ticket-top');
      const b = el('span');
      badge(b, tk.action);
      top.append(b, el('span', 'ticket-code', tk.id), el('span', 'ago', ago(tk.created_at)));
      li.append(top);
      li.append(el('div', 'ticket-title', tk.title || tk.intent));
      li.append(el('div', 'ticket-summary', tk.summary));
      const foot = el('div', 'ticket-foot');
      foot.append(el('span', 'place', place(tk.location)));
      foot.append(el('span', 'state-chip ' + tk.state, stateLabel(tk)));
      li.append(foot);
      li.addEventListener('click', () => select(tk.id));
      li.addEventListener('keydown', (e) => { if (e.key === 'Enter') select(tk.id); });
      ol.append(li);
    });
    $('count').textContent = String(state.tickets.length);
    $('empty').hidden = state.tickets.length > 0;
  }

  function fact(dl, label, value, cls) {
    if (value === null || value === undefined || value === '' || (Array.isArray(value) && !value.length)) return;
    dl.append(el('dt', '', label));
    const dd = el('dd', cls || '');
    if (value instanceof Node) dd.append(value); else dd.textContent = value;
    dl.append(dd);
  }

  function renderDetail() {
    const v = state.tickets.find((x) => x.ticket.id === selected);
    $('placeholder').hidden = !!v;
    $('view').hidden = !v;
    document.body.classList.toggle('showing-detail', !!v);
    if (!v) return;
    const tk = v.ticket;
    badge($('d-badge'), tk.action);
    $('d-id').textContent = tk.id;
    $('d-state').textContent = stateLabel(tk);
    $('d-state').className = 'state-chip ' + tk.state;
    $('d-title').textContent = tk.title || tk.intent;
    const mine = tk.state === 'claimed' && tk.claimed_by === state.agent;
    $('claim').hidden = mine;
    $('claim').disabled = tk.state === 'claimed' && !mine;
    $('claim').textContent = tk.state === 'claimed' ? '已由 ' + tk.claimed_by + ' 接手' : '接手';

    const dl = $('d-facts');
    dl.replaceChildren();
    const known = tk.location && !tk.location.unknown && (tk.location.text || tk.location.has_coords);
    fact(dl, '地点', place(tk.location), known ? 'place' : 'warn');
    fact(dl, '群众所述', tk.summary, 'quote');
    if (tk.notify && tk.notify.length) {
      fact(dl, '需通知', tk.notify.map((n) => state.notify[n] || n).join('、'), 'alert-text-inline');
    }
    if (tk.signals && tk.signals.length) {
      const box = el('div', 'signals');
      tk.signals.forEach((s) => {
        const chip = el('span', 'signal');
        // The handbook's description, to its first comma, is the label;
        // the signal's name and the whole description are on hover.
        const desc = state.signals[s.signal] || '';
        chip.title = s.signal + (desc ? ':' + desc : '');
        chip.append(el('b', '', desc ? desc.split(/[,,::]/)[0] : s.signal), el('span', '', '“' + s.text + '”'));
        box.append(chip);
      });
      fact(dl, '危险信号', box);
    }
    fact(dl, '触发规则', tk.rule, 'code');
    fact(dl, '事件类型', tk.intent, 'code');
    fact(dl, '登记时间', new Date(tk.created_at).toLocaleString('zh-CN', { hour12: false }) + '(' + ago(tk.created_at) + ')');
    if (tk.nuisance) fact(dl, '提示', '该来源多次发送无关内容,请注意甄别', 'warn');

    const tr = $('d-transcript');
    const atBottom = tr.scrollHeight - tr.scrollTop - tr.clientHeight < 40;
    tr.replaceChildren();
    (v.transcript || []).forEach((l) => {
      let kind = 'bot';
      let who = '服务台';
      if (l.from === 'citizen') { kind = 'citizen'; who = '群众'; }
      if (l.from.indexOf('agent:') === 0) { kind = 'agent'; who = '工作人员 ' + l.from.slice(6); }
      const row = el('div', 'line ' + kind);
      const head = el('div', 'line-head');
      head.append(el('span', 'line-who', who), el('span', 'line-time', new Date(l.at).toLocaleTimeString('zh-CN', { hour12: false })));
      const body = el('div', 'line-text', l.text || '共享了位置(见上方“地点”)');
      if (!l.text) body.classList.add('place');
      row.append(head, body);
      tr.append(row);
    });
    if (atBottom || tr.dataset.id !== tk.id) tr.scrollTop = tr.scrollHeight;
    tr.dataset.id = tk.id;
  }

  function renderCanned() {
    const box = $('canned');
    box.replaceChildren();
    state.canned.forEach((c) => {
      const b = el('button', 'chip', c);
      b.type = 'button';
      b.title = '填入回复框';
      b.addEventListener('click', () => {
        const t = $('reply-text');
        t.value = c;
        t.focus();
      });
      box.append(b);
    });
  }

  // wide: list and detail side by side, so an empty detail is wasted.
  const wide = window.matchMedia('(min-width: 821px)');

  function render() {
    if (selected && !state.tickets.some((v) => v.ticket.id === selected)) selected = ''; // closed meanwhile
    if (!selected && wide.matches && state.tickets.length) selected = state.tickets[0].ticket.id;
    $('agent-name').textContent = state.agent;
    renderList();
    renderDetail();
    updateAlert();
  }

  function select(id) {
    if (id !== selected) disarm();
    selected = id;
    render();
  }

  // --- data ----------------------------------------------------------------

  async function refresh() {
    try {
      const v = await api('GET', 'inbox');
      const cannedChanged = JSON.stringify(v.canned) !== JSON.stringify(state.canned);
      state = v;
      if (cannedChanged) renderCanned();
      render();
    } catch (e) {
      if (e.status !== 401) toast('读取事件失败:' + e.message, true);
    }
  }

  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 100);
  }

  function onFrame(f) {
    if (f.outbox_id) {
      if (seen.has(f.outbox_id)) return; // a resend
      seen.add(f.outbox_id);
    }
    if (f.type === 'event' && f.event) {
      const tk = f.event.ticket;
      if (f.event.kind === 'withdrawn') toast('事件 ' + tk.id + ' 已被群众撤销');
      if (f.event.kind === 'rated') toast('事件 ' + tk.id + ' 群众评分:' + f.event.text + ' 分');
      if (f.event.kind === 'unclaimed_reminder') beep(true);
    }
    refreshSoon();
  }

  function setStatus(s) {
    const n = $('status');
    n.hidden = false;
    n.dataset.state = s;
    $('status-text').textContent = { connecting: '连接中', online: '实时', offline: '重新连接中' }[s];
  }

  function connect() {
    if (ws) return;
    setStatus('connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(proto + '//' + location.host + '/agent/ws');
    ws.onopen = () => {
      retry = 0;
      setStatus('online');
      refresh(); // whatever happened while we were away
    };
    ws.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      onFrame(f);
    };
    ws.onclose = () => {
      ws = null;
      if ($('inbox').hidden) return; // signed out
      setStatus('offline');
      setTimeout(connect, Math.min(15000, 1000 * Math.pow(2, retry++)));
    };
  }

  // --- views ---------------------------------------------------------------

  function showSignIn() {
    $('inbox').hidden = true;
    $('who').hidden = true;
    $('status').hidden = true;
    $('alert').hidden = true;
    $('signin').hidden = false;
    clearInterval(reminder);
    reminder = 0;
    if (ws) { const w = ws; ws = null; w.close(); }
    $('name').focus();
  }

  function showInbox(name) {
    state.agent = name;
    $('signin').hidden = true;
    $('inbox').hidden = false;
    $('who').hidden = false;
    $('agent-name').textContent = name;
    alertsButton();
    connect();
    refresh();
  }

  $('signin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    askPermission(); // a click: the browser lets us ask and make sound now
    const err = $('signin-error');
    err.hidden = true;
    try {
      const v = await api('POST', 'signin', { token: $('token').value, name: $('name').value });
      $('token').value = '';
      showInbox(v.name);
    } catch (ex) {
      err.textContent = ex.status === 401 ? '口令不正确,请重新输入。' : ex.message;
      err.hidden = false;
    }
  });

  $('signout').addEventListener('click', async () => {
    try { await api('POST', 'signout'); } catch (e) { /* signed out anyway */ }
    showSignIn();
  });
  $('alerts-btn').addEventListener('click', askPermission);
  $('alert-go').addEventListener('click', () => {
    const w = urgentWaiting();
    if (w.length) select(w[0].ticket.id);
  });
  $('back').addEventListener('click', () => select(''));

  async function act(what, body) {
    if (!selected) return;
    const id = selected;
    try {
      await api('POST', 'tickets/' + encodeURIComponent(id) + '/' + what, body);
      return true;
    } catch (e) {
      const why = e.status === 409 ? '操作冲突:' : '操作失败:';
      toast(why + e.message, true);
      return false;
    } finally {
      await refresh();
    }
  }

  $('claim').addEventListener('click', async () => {
    if (await act('claim')) toast('已接手事件 ' + selected);
  });
  // Resolving takes two clicks: the first arms the button for a few
  // seconds (no blocking confirm dialog).
  let armed = 0;
  function disarm() {
    clearTimeout(armed);
    armed = 0;
    const b = $('resolve');
    b.textContent = '办结';
    b.classList.remove('armed');
  }
  $('resolve').addEventListener('click', async () => {
    const b = $('resolve');
    if (!armed) {
      b.textContent = '确认办结?';
      b.classList.add('armed');
      armed = setTimeout(disarm, 4000);
      return;
    }
    disarm();
    const id = selected;
    if (await act('resolve')) {
      toast('事件 ' + id + ' 已办结,已邀请群众评分');
      selected = '';
      render();
    }
  });
  $('reply-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const t = $('reply-text');
    const body = t.value.trim();
    if (!body) return;
    if (await act('reply', { text: body })) {
      t.value = '';
      toast('回复已发送');
    }
  });
  $('reply-text').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      $('reply-form').requestSubmit();
    }
  });
  document.addEventListener('click', unlockAudio, { once: true });
  setInterval(() => { if (!$('inbox').hidden) renderList(); }, 30000); // keep "n 分钟前" fresh

  api('GET', 'me').then((v) => showInbox(v.name)).catch(() => showSignIn());
})();
