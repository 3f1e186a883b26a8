// qualcert recorder and reference kit: injected by the harness into every
// new document, before any page script, in an isolated world of its own
// (Page.addScriptToEvaluateOnNewDocument with a worldName): it shares the
// page's DOM but none of its JavaScript, so a page that overrides
// performance.now, Date.now, postMessage, MessageEvent.prototype.data or
// EventTarget.prototype.addEventListener changes nothing here, and the CDP
// binding to Go exists in this world only (Runtime.addBinding with an
// executionContextName): the page cannot call it.
//
// In the top page and in every frame the page's tag may run in (frames.js) it
//   - keeps the reference kit's bookkeeping: runs the commands the kit's
//     loader relays from the page's world (page.js, kit.js), creates the
//     campaign iframes, keeps the tokens, and answers the campaign's
//     getMetaData itself: its message listener is the first one of the
//     window (registered before any page script), so a page cannot swallow
//     what the campaign asks, nor answer in the kit's place;
//   - records every _qual_async command the page pushed, every Qualifio
//     postMessage that reaches the page, and, once a campaign reported an
//     error, the visible content the page adds (its reaction);
//   - stamps every event on this world's own clock (performance.timeOrigin +
//     performance.now(), the campaign iframe's clock too), never the page's;
//   - reports a page that tampers with the harness: one that stops a
//     Qualifio message before the window's other listeners (the real kit's)
//     see it, or calls the emitters the harness used to expose.
// What comes from the page's world is bounded (size and rate) and taken as
// what it is: something the page did at the moment it arrived.
(function () {
  'use strict';
  /*qualcert:frames*/
  // (opaque-origin frames are reported by frameCheck below)
  var own = followedFrame();
  var bind = window.__qualcertEmit;
  if (typeof bind !== 'function') return;
  if (window.top !== window) frameCheck(bind);
  if (!own) return;
  // frameCheck watches a frame, of any origin, for a Qualifio tag the
  // frame keeps from working: scripts that cannot run there (an iframe
  // sandboxed without allow-scripts, whatever its src, or a CSP sandbox on
  // the frame's own response), or an opaque origin (a sandbox with
  // allow-scripts but without allow-same-origin: the tag runs, and the
  // campaign iframe its kit creates inherits the sandbox, without its
  // cookies or storage, out of the harness's reach). It reports that once,
  // when the frame's document is parsed; the judge names it
  // (campaign.blocked_by_page). Whether the page's scripts may run here
  // (a sandbox, not a CSP script-src, which stops some scripts only), the
  // parser says: with scripting disabled it parses a <noscript>'s content
  // as elements (HTML, "parsing HTML fragments": the scripting flag). The
  // harness's own injected scripts run either way, so they cannot tell.
  function frameCheck(bind) {
    var opaque = window.origin === 'null', done = false, scripts = true;
    function scriptsRun() {
      try {
        var d = document.createElement('div');
        d.innerHTML = '<noscript><i></i></noscript>';
        return !d.querySelector('noscript i');
      } catch (e) { return true; }
    }
    var Q = /qualifio|_qual_async|\/kit\/qualp/i;
    function tagged() {
      if (document.querySelector('[id^="qualifio_insert_place"]')) return true;
      var l = document.getElementsByTagName('script');
      for (var i = 0; i < l.length && i < 500; i++) {
        if (Q.test(l[i].getAttribute('src') || '') || Q.test(String(l[i].text || '').slice(0, 1 << 16))) return true;
      }
      return false;
    }
    function check() {
      if (done) return;
      done = true;
      scripts = scriptsRun();
      if (scripts && !opaque) return;
      if (!tagged()) return;
      var where = '';
      try { where = location.protocol === 'about:' ? location.href : location.host + location.pathname; } catch (e) { /* ignore */ }
      try {
        bind(JSON.stringify({ src: 'page', ev: 'sandbox', t: performance.timeOrigin + performance.now(),
          data: { sandbox: '', frame: String(where).slice(0, 300), scripts: scripts, opaque: opaque } }));
      } catch (e) { /* ignore */ }
    }
    document.addEventListener('DOMContentLoaded', check, true);
  }
  var stringify = JSON.stringify, parse = JSON.parse, hasOwn = Object.prototype.hasOwnProperty;
  var perf = window.performance;
  function now() { return perf.timeOrigin + perf.now(); }
  function emit(o) {
    o.t = o.t || now();
    try { bind(stringify(o)); } catch (e) { /* unserialisable: dropped */ }
  }
  function kitEmit(ev, div, data) { emit({ src: 'kit', ev: ev, div: div || '', data: data || {} }); }

  // The recorder's listeners on the document and the window, kept so that
  // they can be added again: document.open() (a page writing an ad slot or
  // a CMS block into an about:blank iframe: createElement, appendChild,
  // contentDocument.write) erases every listener of the document and its
  // window, in every world, but keeps the window and this world's state
  // (Chromium makes no new document there, so nothing runs again "on new
  // document"). The observer below sees the document's children replaced
  // and arms them again, in the microtask after the page's writing script,
  // before any script it wrote that loads (the kit's loader) can run.
  var listeners = [];
  function listen(target, type, fn, capture) {
    listeners.push([target, type, fn, capture]);
    target.addEventListener(type, fn, capture);
  }
  function rearm() {
    // Adding a listener that is still there is a no-op.
    for (var i = 0; i < listeners.length; i++) listeners[i][0].addEventListener(listeners[i][1], listeners[i][2], listeners[i][3]);
  }

  // Relays from the page's world, bounded: at most MAXRELAY characters each
  // (a token over 64 KiB comes as its head and length),
  // and a token bucket per kind (a burst of BURST, then RATE a second, and a total per run). What
  // is dropped is counted and reported once a second.
  // A run's totals are bounded too (page observations, kit commands), so
  // that the recorder stays well within the session's bound on the binding
  // (browser.Session: 3000 calls) and the campaign's events always get
  // through.
  // Each kind has its own budget: a flood of one (junk commands) cannot
  // crowd out another (the loader's kit.loaded).
  var MAXRELAY = 1 << 20, BURST = 300, RATE = 100, TOTAL = { command: 1000, run: 500, kit: 20, sign: 20, tamper: 20 };
  var buckets = {}, dropped = 0, dropTimer = 0;
  function allow(kind) {
    if (!hasOwn.call(TOTAL, kind) || TOTAL[kind]-- <= 0) return false;
    var b = buckets[kind], t = perf.now();
    if (!b) b = buckets[kind] = { n: BURST, t: t };
    b.n = Math.min(BURST, b.n + (t - b.t) * RATE / 1000);
    b.t = t;
    if (b.n < 1) return false;
    b.n -= 1;
    return true;
  }
  function drop(why) {
    dropped++;
    if (dropTimer) return;
    dropTimer = setTimeout(function () {
      emit({ src: 'page', ev: 'relay.dropped', data: { count: dropped, why: why } });
      dropped = 0; dropTimer = 0;
    }, 1000);
  }
  listen(document, 'qualcert:relay', function (e) {
    var s = e.detail;
    if (typeof s !== 'string') return;
    if (s.length > MAXRELAY) { drop('size'); return; }
    var o;
    try { o = parse(s); } catch (x) { return; }
    if (!o || typeof o !== 'object') return;
    var kind = String(o.k);
    if (!hasOwn.call(TOTAL, kind)) return;
    if (!allow(kind)) { drop('rate'); return; }
    switch (kind) {
      case 'command':
        emit({ src: 'page', ev: 'command', data: { how: o.how === 'run' ? 'run' : 'queued', args: Array.isArray(o.args) ? o.args.slice(0, 16) : [] } });
        break;
      case 'tamper':
        emit({ src: 'page', ev: 'tamper', div: typeof o.div === 'string' ? o.div.slice(0, 200) : '',
          data: { what: o.what === 'message.swallowed' ? 'message.swallowed' : 'emitter.called', name: String(o.name || '').slice(0, 64) } });
        break;
      case 'sign':
        if (o.kind === 'queue') sign('queue', '_qual_async');
        break;
      case 'kit':
        if (o.ev === 'kit.loaded') kitEmit('kit.loaded', '', { again: !!o.again });
        break;
      case 'run':
        run(o, e.target && e.target.nodeType === 1 ? e.target : null);
        break;
    }
  }, true);

  // Signs of a campaign: what tells the harness that a kit may still come
  // (a lazy loader, a timer, a client-side route): a qualifio_insert_place_*
  // div, a _qual_async queue (relayed by page.js), a script that names
  // Qualifio or its loader. Each sign is sent once.
  var signs = {}, nsigns = 0;
  function sign(kind, what) {
    var k = kind + ':' + what;
    if (signs[k] || nsigns >= 20) return;
    signs[k] = true; nsigns++;
    emit({ src: 'page', ev: 'sign', data: { kind: kind, what: String(what).slice(0, 200) } });
  }
  var QUALIFIO = /qualifio|_qual_async|\/kit\/qualp/i;
  function scanScript(el) {
    var src = el.getAttribute && el.getAttribute('src');
    if (src) {
      if (QUALIFIO.test(src)) sign('script', el.src || src);
      return;
    }
    var text = el.text || '';
    if (QUALIFIO.test(text)) {
      var m = /(?:https?:)?\/\/[a-z0-9.-]+\/kit\/qualp[^'"\s]*|[a-z0-9.-]*qualifio(?:app)?\.com/i.exec(text);
      sign('script', m ? m[0] : 'inline');
    }
  }
  function each(n, sel, f) {
    if (!n || n.nodeType !== 1) return;
    if (n.matches && n.matches(sel)) f(n);
    if (n.firstElementChild && n.querySelectorAll) { var l = n.querySelectorAll(sel); for (var i = 0; i < l.length; i++) f(l[i]); }
  }
  function added(n) {
    each(n, 'script', scanScript);
    each(n, '[id^="qualifio_insert_place"]', function (d) { sign('div', d.id); });
  }
  try {
    new MutationObserver(function (list) {
      for (var i = 0; i < list.length; i++) {
        var m = list[i];
        if (m.target === document && m.removedNodes.length) rearm(); // document.open(): see listen
        for (var j = 0; j < m.addedNodes.length; j++) added(m.addedNodes[j]);
      }
    }).observe(document, { childList: true, subtree: true });
  } catch (e) { /* no observer: the kit's own events remain */ }

  // The reference kit (PROTOCOL.md): the state lives here, not in the page.
  var frames = {};  // div id → iframe (the live one: a div mounted again gets a new iframe)
  var frameNo = {}; // div id → the live iframe's number in this document
  var seq = 0;      // iframes created in this document
  var order = [];   // div ids in creation order
  var meta = {};    // div id ('' when none was given) → {token}
  var asked = {};   // div id → the campaign asked for metadata
  var scheme = location.protocol === 'http:' ? 'http:' : 'https:';
  var has = Object.prototype.hasOwnProperty;
  function isDesc(v, t) { return v && typeof v === 'object' && v.__t === t; }

  function divOf(v, target) {
    if (typeof v === 'string') return { id: v, kind: 'string' };
    if (isDesc(v, 'target')) return { id: String(v.id || ''), kind: 'element', el: target };
    if (isDesc(v, 'element')) return { id: String(v.id || ''), kind: 'element' };
    if (v === undefined || v === null || isDesc(v, 'undefined')) return { id: '', kind: 'missing' };
    if (typeof v === 'number' || typeof v === 'boolean') return { id: String(v), kind: typeof v };
    var k = v && typeof v === 'object' && typeof v.__t === 'string' ? v.__t : 'object';
    return { id: k === 'object' ? '[object Object]' : '', kind: k === 'array' ? 'object' : k };
  }
  function size(v, def) {
    if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) return v + 'px';
    if (typeof v === 'string' && v) return v;
    return def;
  }
  function describe(v) {
    if (v === null) return null;
    if (typeof v === 'string' && v.length > 65536) return { __t: 'big', length: v.length, head: v.slice(0, 65536) };
    if (typeof v === 'string') return v;
    if (isDesc(v, 'big')) return v;
    if (isDesc(v, 'target') || isDesc(v, 'element')) return { __t: 'element', id: String(v.id || '') };
    if (v && typeof v === 'object' && typeof v.__t === 'string') return { __t: v.__t === 'array' ? 'object' : v.__t };
    return { __t: typeof v };
  }
  function typeOf(v) {
    if (v === null) return 'null';
    if (typeof v !== 'object') return typeof v;
    if (v.__t === 'big') return 'string';
    if (v.__t === 'undefined' || v.__t === 'function') return v.__t;
    return 'object';
  }

  function createIframe(cmd, target) {
    var d = divOf(cmd[1], target);
    var host = String(cmd[2] || ''), type = String(cmd[3] || ''), guid = String(cmd[4] || '');
    var el = d.el || (d.id ? document.getElementById(d.id) : null);
    var info = { host: host, channel_type: type, guid: guid, div_kind: d.kind };
    if (!el) { info.found = false; kitEmit('createIframe', d.id, info); return; }
    if (HOSTS && HOSTS.indexOf(host.toLowerCase()) < 0) {
      info.found = true; info.refused = 'host';
      kitEmit('createIframe', d.id, info);
      return;
    }
    var f = document.createElement('iframe');
    var n = ++seq;
    f.src = scheme + '//' + host + '/' + encodeURIComponent(type) + '/' + encodeURIComponent(guid) +
      '/v1.cfm?id=' + encodeURIComponent(guid) + '&div=' + encodeURIComponent(d.id) + '&frame=' + n;
    f.title = 'Qualifio campaign';
    f.setAttribute('frameborder', '0');
    f.setAttribute('scrolling', 'no');
    f.setAttribute('data-qualcert-campaign', d.id);
    f.style.cssText = 'border:0;display:block;max-width:100%;width:' + size(cmd[5], '100%') + ';height:' + size(cmd[6], '640px') + ';' + (typeof cmd[10] === 'string' ? cmd[10] : '');
    f.addEventListener('load', function () { kitEmit('iframe.loaded', d.id, { frame: n }); });
    if (!has.call(frames, d.id)) order.push(d.id);
    frames[d.id] = f;
    frameNo[d.id] = n;
    info.found = true;
    info.frame = n;
    el.appendChild(f);
    kitEmit('createIframe', d.id, info);
    watchRemoval();
  }

  // The page removing a campaign's live iframe (or its div) after
  // createIframe (a framework re-rendering the block, a script emptying
  // the container) stops that campaign: said once per iframe. A div
  // mounted again gets a new iframe from a new createIframe, which is then
  // the live one.
  var removedSent = {}, removal = null;
  function watchRemoval() {
    if (removal) return;
    try {
      removal = new MutationObserver(function () {
        for (var i = 0; i < order.length; i++) {
          var div = order[i], f = frames[div], n = frameNo[div];
          if (!f || f.isConnected || removedSent[div + '#' + n]) continue;
          removedSent[div + '#' + n] = true;
          kitEmit('iframe.removed', div, { frame: n, div_gone: !document.getElementById(div) });
        }
      });
      removal.observe(document, { childList: true, subtree: true });
    } catch (e) { /* no observer: the campaign's silence remains */ }
  }

  function setMetaData(cmd, target, queued) {
    var d = divOf(cmd[3], target);
    var tok = cmd.length > 2 ? cmd[2] : { __t: 'undefined' };
    kitEmit('setMetaData', d.id, { type: describe(cmd[1]), div_kind: d.kind, token: describe(tok), token_type: typeOf(tok), queued: !!queued });
    meta[d.id] = { token: tok };
    if (d.id && asked[d.id]) send(d.id);
    if (!d.id && order.length === 1 && asked[order[0]]) send(order[0]);
  }

  // entry returns what the kit holds for div: the token of its own
  // setMetaData, or with one campaign the one pushed without a divId.
  function entry(div) {
    if (has.call(meta, div)) return meta[div];
    if (order.length === 1 && has.call(meta, '')) return meta[''];
    return null;
  }
  function send(div) {
    var f = frames[div];
    if (!f || !f.contentWindow) return;
    var m = entry(div);
    var jwt = null;
    if (m) {
      var t = m.token;
      if (typeof t === 'string' || t === null) jwt = t;
      else if (isDesc(t, 'big')) jwt = { __t: 'big', head: String(t.head), length: +t.length || 0 };
      else if (isDesc(t, 'undefined')) jwt = null;
      else if (typeof t === 'object') jwt = { __t: (t.__t === 'target' || t.__t === 'element') ? 'element' : t.__t };
      else jwt = { __t: typeof t };
    }
    f.contentWindow.postMessage({ qualifio: true, type: 'qualifio:metaData', divId: div, jwt: jwt, hasMeta: !!m }, '*');
    kitEmit('metadata.sent', div, { has_meta: !!m, frame: frameNo[div] || 0 });
  }

  function run(o, target) {
    try {
      var cmd = o.cmd;
      if (o.invalid || !Array.isArray(cmd)) { kitEmit('command.invalid', '', {}); return; }
      if (cmd[0] === 'createIframe') createIframe(cmd, target);
      else if (cmd[0] === 'setMetaData') setMetaData(cmd, target, o.queued === true);
      else kitEmit('command.unknown', '', { name: typeof cmd[0] === 'string' ? cmd[0] : stringify(cmd[0]) });
    } catch (e) {
      kitEmit('kit.error', '', { message: String(e && e.message) });
    }
  }
  function campaignOf(source) {
    for (var i = 0; i < order.length; i++) if (frames[order[i]].contentWindow === source) return order[i];
    return null;
  }

  // Qualifio messages that reach the page (campaign → parent): recorded,
  // and getMetaData answered by the kit. This capturing listener is the
  // window's first (registered before any page script): a page listener
  // that stops the message (page.js reports it) cannot keep it from the
  // kit, and one the page makes up (not trusted) is refused and reported.
  var watching = false;
  listen(window, 'message', function (e) {
    var d = e.data;
    if (!d || typeof d !== 'object' || d.qualifio !== true) return;
    if (!e.isTrusted) {
      // A message the page made up (dispatchEvent), not one a frame sent.
      emit({ src: 'page', ev: 'tamper', div: typeof d.divId === 'string' ? d.divId.slice(0, 200) : '', data: { what: 'message.forged', name: String(d.type || '').slice(0, 64) } });
      return;
    }
    var payload = {};
    for (var k in d) {
      if (!Object.prototype.hasOwnProperty.call(d, k)) continue;
      var v = d[k];
      payload[k] = (typeof v === 'number' || typeof v === 'boolean' || v === null) ? v : ser(v, 1);
    }
    emit({ src: 'page', ev: 'postMessage', div: typeof d.divId === 'string' ? d.divId : '', data: { origin: e.origin, type: String(d.type || ''), payload: payload } });
    var div = campaignOf(e.source);
    if (div !== null && d.type === 'qualifio:getMetaData') { asked[div] = true; send(div); }
    if (d.type === 'qualifio:error' && !watching) { watching = true; watchDOM(); }
  }, true);

  // ser describes a message value for the timeline: strings raw (Go
  // redacts), others by type.
  var BIG = 65536;
  function ser(v, depth) {
    if (v === null) return null;
    var t = typeof v;
    if (t === 'string' && v.length > BIG) return { __t: 'big', length: v.length, head: v.slice(0, BIG) };
    if (t === 'string' || t === 'number' || t === 'boolean') return v;
    if (t === 'undefined') return { __t: 'undefined' };
    if (v && v.nodeType === 1) return { __t: 'element', tag: String(v.tagName).toLowerCase(), id: v.id || '' };
    if (Array.isArray(v) && depth < 1) { var a = []; for (var i = 0; i < v.length && i < 16; i++) a.push(ser(v[i], depth + 1)); return a; }
    return { __t: t === 'object' ? (Array.isArray(v) ? 'array' : 'object') : t };
  }
  // watchDOM reports visible content the page adds (or reveals) outside the
  // campaign iframes after an error: the page's candidate reaction. Only its
  // shape is sent, never its text: the role it carries, whether it sits in
  // or right next to a campaign's container, whether it speaks of the
  // participant's session (login link, button, form, password field, or
  // such words) or of cookies and consent. Go decides (PROTOCOL.md, "What
  // counts as a page reaction").
  var SESSION = /\b(log ?in|sign ?in|log ?on|connexion|se connecter|connectez|identifiez|inloggen|aanmelden|anmelden|einloggen|session|account|compte)\b/i;
  var CONSENT = /\b(cookies?|consent|gdpr|rgpd|privacy|vie priv|tracking|partners?)\b/i;
  function roleOf(el) {
    for (var n = el, i = 0; n && n.nodeType === 1 && i < 6; n = n.parentElement, i++) {
      var r = n.getAttribute('role');
      if (r) return String(r).toLowerCase();
      if (n.tagName === 'DIALOG') return 'dialog';
    }
    return '';
  }
  function nearCampaign(el) {
    var frames = document.querySelectorAll('iframe[data-qualcert-campaign]');
    for (var i = 0; i < frames.length; i++) {
      var div = frames[i].getAttribute('data-qualcert-campaign');
      var box = frames[i].parentElement;
      if (!box) continue;
      if (box.contains(el) && box !== el) return div;
      if (box.previousElementSibling === el || box.nextElementSibling === el) return div;
    }
    return '';
  }
  function session(el, text) {
    if (SESSION.test(text)) return true;
    try {
      if (el.matches && el.matches('a[href*="login" i], a[href*="signin" i], a[href*="connexion" i], form:has(input[type=password])')) return true;
      if (el.querySelector && el.querySelector('input[type=password], a[href*="login" i], a[href*="signin" i], a[href*="connexion" i]')) return true;
    } catch (e) { /* :has() or the i flag unsupported: the text decides */ }
    return false;
  }
  function watchDOM() {
    var sent = 0;
    function visible(el) {
      if (!el || el.nodeType !== 1 || el.tagName === 'IFRAME' || el.tagName === 'SCRIPT' || el.tagName === 'STYLE') return false;
      if (el.closest && el.closest('iframe')) return false;
      var r = el.getClientRects();
      if (!r.length) return false;
      var text = (el.innerText || '').trim();
      return text.length > 0 || /^(IMG|BUTTON|INPUT|A|DIALOG|FORM)$/.test(el.tagName);
    }
    var mo = new MutationObserver(function (list) {
      if (document.documentElement && document.documentElement.hasAttribute('data-qualcert-evidence')) return; // the harness masking values for its screenshot
      for (var i = 0; i < list.length && sent < 20; i++) {
        var m = list[i];
        var nodes = m.type === 'childList' ? m.addedNodes : [m.target];
        for (var j = 0; j < nodes.length && sent < 20; j++) {
          var n = nodes[j];
          if (n.nodeType === 3) n = n.parentElement;
          if (visible(n)) {
            sent++;
            var text = (n.innerText || '').trim();
            emit({ src: 'page', ev: 'dom', data: { tag: String(n.tagName).toLowerCase(), id: n.id || '', text_len: text.length,
              role: roleOf(n), near: nearCampaign(n), session: session(n, text.slice(0, 2000)), consent: CONSENT.test(text.slice(0, 2000)) } });
          }
        }
      }
    });
    mo.observe(document.documentElement || document, { childList: true, subtree: true, attributes: true, attributeFilter: ['style', 'class', 'hidden', 'open'] });
  }

  // Plain iframes the page itself inserts (not the kit's): their host and
  // path, so that a campaign embedded through Qualifio's Iframe-HTML channel
  // (no kit, no setMetaData) is named as such.
  var iframesSeen = 0;
  function iframeSeen(f) {
    if (!f || f.tagName !== 'IFRAME' || f.hasAttribute('data-qualcert-campaign') || f.__qualcertSeen) return;
    var src = f.getAttribute('src') || '';
    if (!src) return;
    f.__qualcertSeen = true;
    if (++iframesSeen > 200) return;
    try {
      var u = new URL(src, location.href);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return;
      // In a frame, only a plain campaign iframe is said: an ad slot's
      // pixels and nested frames are no part of the story.
      if (window.top !== window && !campaignHost(u.hostname)) return;
      emit({ src: 'page', ev: 'iframe', data: { host: u.hostname, path: u.pathname.slice(0, 200) } });
    } catch (e) { /* unparsable src */ }
  }
  function scanIframes(root) {
    if (!root || root.nodeType !== 1) return;
    if (root.tagName === 'IFRAME') { iframeSeen(root); sandboxSeen(root); return; }
    var list = root.getElementsByTagName('iframe');
    for (var i = 0; i < list.length; i++) { iframeSeen(list[i]); sandboxSeen(list[i]); }
  }
  // A sandboxed container of the tag: an iframe whose sandbox attribute
  // lacks allow-scripts and whose srcdoc holds the Qualifio tag (a CMS
  // "HTML embed" block rendered sandboxed): the tag can never run.
  var sandboxes = 0;
  function sandboxSeen(f) {
    if (!f || f.tagName !== 'IFRAME' || !f.hasAttribute('sandbox') || f.__qualcertSandbox || sandboxes >= 20) return;
    var attr = String(f.getAttribute('sandbox') || '');
    if ((' ' + attr.toLowerCase().split(/\s+/).join(' ') + ' ').indexOf(' allow-scripts ') >= 0) return;
    if (!QUALIFIO.test(f.getAttribute('srcdoc') || '')) return;
    f.__qualcertSandbox = true;
    sandboxes++;
    emit({ src: 'page', ev: 'sandbox', data: { sandbox: attr.slice(0, 200) } });
  }
  // CSP violations the browser dispatches (trusted events only: a page can
  // dispatch its own); Chromium's Audits issues say the same from outside.
  var csps = 0;
  listen(document, 'securitypolicyviolation', function (e) {
    if (!e.isTrusted || csps >= 50) return;
    csps++;
    emit({ src: 'page', ev: 'csp', data: { directive: String(e.effectiveDirective || e.violatedDirective || '').slice(0, 100),
      blocked_url: String(e.blockedURI || '').slice(0, 500), report_only: e.disposition === 'report' } });
  }, true);

  var io = new MutationObserver(function (list) {
    for (var i = 0; i < list.length; i++) {
      var m = list[i];
      if (m.type === 'attributes') { iframeSeen(m.target); sandboxSeen(m.target); continue; }
      for (var j = 0; j < m.addedNodes.length; j++) scanIframes(m.addedNodes[j]);
    }
  });
  io.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['src', 'srcdoc', 'sandbox'] });
  listen(document, 'DOMContentLoaded', function () { scanIframes(document.documentElement); }, false);
})();
