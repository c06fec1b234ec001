// The citizen's chat page. Plain JavaScript, no framework. Every text that
// comes from the desk or the citizen is put on the page with textContent,
// never as HTML.
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const log = $('log');
  const text = $('text');
  const form = $('composer');
  const PENDING = 'deskbot.pending'; // messages sent but not yet acknowledged
  const SHOWN = 'deskbot.shown';     // outbox ids already shown (a resend is dropped)

  let ws = null;
  let retry = 0;
  const rows = new Map(); // client message id -> its bubble
  let pending = load(PENDING, []);
  const shown = new Set(load(SHOWN, []));

  function load(key, fallback) {
    try {
      const v = JSON.parse(sessionStorage.getItem(key));
      return Array.isArray(v) ? v : fallback;
    } catch (e) {
      return fallback;
    }
  }
  function save(key, value) {
    try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: keep in memory */ }
  }

  function newId() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  function el(tag, cls, txt) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (txt !== undefined && txt !== null) e.textContent = txt;
    return e;
  }

  function hhmm(d) {
    return d.toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false });
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function hideWelcome() {
    const w = $('welcome');
    if (w) w.hidden = true;
  }

  // bubble adds one message. kind: citizen, bot, agent.
  function bubble(kind, body, opts) {
    opts = opts || {};
    hideWelcome();
    const row = el('div', 'row ' + kind);
    if (kind === 'bot') row.append(el('div', 'who', '服务台'));
    if (kind === 'agent') row.append(el('div', 'who', '工作人员 · ' + (opts.agent || '')));
    const b = el('div', 'bubble', body);
    row.append(b);
    const meta = el('div', 'meta');
    meta.append(el('span', 'time', hhmm(opts.at ? new Date(opts.at) : new Date())));
    if (kind === 'citizen') meta.append(el('span', 'state'));
    row.append(meta);
    log.append(row);
    scrollDown();
    return row;
  }

  function notice(msg, cls) {
    hideWelcome();
    const n = el('div', 'notice' + (cls ? ' ' + cls : ''), msg);
    log.append(n);
    scrollDown();
  }

  // Ticket numbers are six capital letters and digits, as the desk says them.
  const ticketRe = /事件编号\s*([A-Z0-9]{6})/;
  function noteTicket(id, body) {
    const m = id || (ticketRe.exec(body || '') || [])[1];
    if (!m) return;
    $('ticket-id').textContent = m;
    $('ticket').hidden = false;
  }

  function closeChoices() {
    log.querySelectorAll('.choices.live').forEach((c) => {
      c.classList.remove('live');
      c.querySelectorAll('button').forEach((b) => { b.disabled = true; });
    });
  }

  function choices(row, list, askLocation) {
    const box = el('div', 'choices live');
    (list || []).forEach((c) => {
      const b = el('button', 'choice', c.label);
      b.type = 'button';
      b.addEventListener('click', () => {
        b.classList.add('picked');
        send(c.value);
      });
      box.append(b);
    });
    if (askLocation) {
      const b = el('button', 'choice locate', '发送我的位置');
      b.type = 'button';
      b.addEventListener('click', shareLocation);
      box.append(b);
    }
    if (box.childElementCount) {
      row.append(box);
      scrollDown();
    }
  }

  function deskMessage(f) {
    const kind = f.from_agent ? 'agent' : 'bot';
    const row = bubble(kind, f.text, { agent: f.from_agent });
    row.dataset.outbox = String(f.outbox_id || '');
    choices(row, f.choices, f.ask_location);
    noteTicket(f.ticket_id, f.text);
  }

  function setStatus(state) {
    const s = $('status');
    s.dataset.state = state;
    $('status-text').textContent = { connecting: '连接中', online: '在线', offline: '重新连接中' }[state];
  }

  function markState(id, state, label) {
    const row = rows.get(id);
    if (!row) return;
    row.classList.remove('sending', 'failed');
    if (state) row.classList.add(state);
    const s = row.querySelector('.state');
    if (s) s.textContent = label || '';
  }

  function transmit(m) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  }

  // queue keeps a message until the desk acknowledges it; after a
  // reconnect it is sent again with the same id and the desk stores it once.
  function queue(m, row) {
    closeChoices();
    rows.set(m.id, row);
    pending.push(m);
    save(PENDING, pending);
    markState(m.id, 'sending', '发送中');
    transmit(m);
  }

  function forget(id) {
    pending = pending.filter((p) => p.id !== id);
    save(PENDING, pending);
  }

  function send(body) {
    body = (body || '').trim();
    if (!body) return;
    const m = { type: 'message', id: newId(), text: body };
    queue(m, bubble('citizen', body));
  }

  function shareLocation() {
    if (!('geolocation' in navigator)) {
      notice('您的浏览器不支持定位,请直接输入详细地址。');
      return;
    }
    notice('正在获取您的位置…', 'soft');
    navigator.geolocation.getCurrentPosition((pos) => {
      const lat = pos.coords.latitude;
      const lon = pos.coords.longitude;
      const m = { type: 'location', id: newId(), lat: lat, lon: lon };
      const row = bubble('citizen', '我的位置:' + lat.toFixed(5) + ', ' + lon.toFixed(5));
      row.classList.add('at-place');
      queue(m, row);
    }, (err) => {
      notice('未能获取位置' + (err && err.code === 1 ? '(未获得定位权限)' : '') + ',请直接输入详细地址,如路名、小区、楼栋。');
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  function hello(f) {
    log.querySelectorAll('.row, .notice').forEach((n) => n.remove());
    rows.clear();
    const lines = f.history || [];
    lines.forEach((l, i) => {
      if (l.from === 'citizen') {
        // A shared position is stored without words (see citizen.go).
        const row = bubble('citizen', l.text || '已发送位置', { at: l.at });
        if (!l.text || l.located) row.classList.add('at-place');
      } else {
        const row = bubble(l.from === 'agent' ? 'agent' : 'bot', l.text, { at: l.at, agent: l.agent });
        noteTicket('', l.text);
        // The desk's last question still wants an answer: offer its buttons again.
        if (i === lines.length - 1) choices(row, l.choices, l.ask_location);
      }
    });
    if (!lines.length && !pending.length) $('welcome').hidden = false;
    // What the desk did not acknowledge before the reload goes again.
    pending.forEach((m) => {
      const row = bubble('citizen', m.type === 'location' ? '我的位置' : m.text);
      if (m.type === 'location') row.classList.add('at-place');
      rows.set(m.id, row);
      markState(m.id, 'sending', '发送中');
      transmit(m);
    });
  }

  function onFrame(f) {
    switch (f.type) {
      case 'hello':
        hello(f);
        break;
      case 'message':
        if (f.outbox_id && shown.has(f.outbox_id)) return; // a resend
        if (f.outbox_id) {
          shown.add(f.outbox_id);
          save(SHOWN, Array.from(shown).slice(-300));
        }
        deskMessage(f);
        break;
      case 'ack':
        forget(f.id);
        markState(f.id, '', '已送达');
        break;
      case 'error':
        forget(f.id);
        markState(f.id, 'failed', '未发送');
        if (f.code === 'rate_limited') notice(f.text || '请稍后再发。', 'warn');
        else if (f.code === 'invalid') notice('这条消息无法发送,请换个说法再试。', 'warn');
        else notice('消息发送失败,请稍后重试。紧急情况请直接拨打110。', 'warn');
        break;
      default:
    }
  }

  function connect() {
    setStatus('connecting');
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(proto + '//' + location.host + '/ws');
    ws.onopen = () => {
      retry = 0;
      setStatus('online');
    };
    ws.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      onFrame(f);
    };
    ws.onclose = (ev) => {
      setStatus('offline');
      if (ev.code === 1009 && pending.length) {
        // Too long for the desk: do not send it again.
        const last = pending[pending.length - 1];
        forget(last.id);
        markState(last.id, 'failed', '未发送');
        notice('消息过长,请分几次发送。', 'warn');
      }
      const wait = Math.min(15000, 1000 * Math.pow(2, retry++));
      setTimeout(connect, wait);
    };
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    send(text.value);
    text.value = '';
    grow();
    text.focus();
  });
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  function grow() {
    text.style.height = 'auto';
    text.style.height = Math.min(text.scrollHeight, 132) + 'px';
  }
  text.addEventListener('input', grow);
  $('share').addEventListener('click', shareLocation);
  $('examples').addEventListener('click', (e) => {
    if (e.target.classList.contains('example')) send(e.target.textContent);
  });

  connect();
})();
