// qualcert recorder: injected by the harness into every new document before
// any page script (Page.addScriptToEvaluateOnNewDocument). In the top page it
// records every _qual_async command (also those pushed before a kit exists,
// and with the real Qualifio kit in observe mode), every Qualifio postMessage
// that reaches the page, and, once a campaign reported an error, the visible
// content the page adds (its reaction). Raw values go to Go through a CDP
// binding; Go redacts them (token fingerprints) before anything is recorded.
(function () {
  'use strict';
  if (window.top !== window) return;
  var bind = window.__qualcertEmit;
  if (typeof bind !== 'function') return;
  var stringify = JSON.stringify;
  var perf = window.performance;
  function now() { return perf.timeOrigin + perf.now(); }
  function emit(o) {
    o.t = o.t || now();
    try { bind(stringify(o)); } catch (e) { /* unserialisable: dropped */ }
  }
  var api = {};
  Object.defineProperty(api, 'emit', { value: emit });
  Object.defineProperty(api, 'now', { value: now });
  Object.defineProperty(window, '__qualcert', { value: api, configurable: false, enumerable: false });

  // ser turns a command argument into JSON: strings stay raw (Go redacts the
  // token), DOM elements and other objects become descriptions.
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
  function record(cmd, how) {
    var args = [];
    if (cmd && typeof cmd === 'object' && typeof cmd.length === 'number') {
      for (var i = 0; i < cmd.length && i < 16; i++) args.push(ser(cmd[i], 1));
    } else {
      args = [ser(cmd, 1)];
    }
    emit({ src: 'page', ev: 'command', data: { how: how, args: args } });
  }

  var replaced = false;
  function wrapQueue(q) {
    if (!q || (typeof q !== 'object' && typeof q !== 'function')) return;
    try {
      if (q.__qualcertWrapped) return;
      Object.defineProperty(q, '__qualcertWrapped', { value: true });
    } catch (e) { return; }
    if (Array.isArray(q)) for (var i = 0; i < q.length; i++) record(q[i], 'queued');
    var inner = q.push;
    var wrapper = function () {
      for (var i = 0; i < arguments.length; i++) record(arguments[i], replaced ? 'run' : 'queued');
      return typeof inner === 'function' ? inner.apply(this, arguments) : undefined;
    };
    try {
      Object.defineProperty(q, 'push', {
        configurable: true, enumerable: false,
        get: function () { return wrapper; },
        set: function (f) { inner = f; replaced = true; emit({ src: 'page', ev: 'queue.taken' }); }
      });
    } catch (e) { /* frozen queue: commands are still seen by the reference kit */ }
  }
  var current;
  try {
    Object.defineProperty(window, '_qual_async', {
      configurable: true, enumerable: true,
      get: function () { return current; },
      set: function (v) { current = v; sign('queue', '_qual_async'); wrapQueue(v); }
    });
  } catch (e) { /* the page redefined it first: only the kit's own events remain */ }

  // Signs of a campaign: what tells the harness that a kit may still come
  // (a lazy loader, a timer, a client-side route): a qualifio_insert_place_*
  // div, a _qual_async queue, a script that names Qualifio or its loader.
  // Each sign is sent once.
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
        for (var j = 0; j < m.addedNodes.length; j++) added(m.addedNodes[j]);
      }
    }).observe(document, { childList: true, subtree: true });
  } catch (e) { /* no observer: the kit's own events remain */ }

  // Qualifio messages that reach the page (campaign → parent).
  var watching = false;
  window.addEventListener('message', function (e) {
    var d = e.data;
    if (!d || typeof d !== 'object' || d.qualifio !== true) return;
    var payload = {};
    for (var k in d) {
      if (!Object.prototype.hasOwnProperty.call(d, k)) continue;
      var v = d[k];
      payload[k] = (typeof v === 'number' || typeof v === 'boolean' || v === null) ? v : ser(v, 1);
    }
    emit({ src: 'page', ev: 'postMessage', div: typeof d.divId === 'string' ? d.divId : '', data: { origin: e.origin, type: String(d.type || ''), payload: payload } });
    if (d.type === 'qualifio:error' && !watching) { watching = true; watchDOM(); }
  }, true);

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
      if (window.__qualcertEvidence) return; // the harness masking values for its screenshot
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
  function iframeSeen(f) {
    if (!f || f.tagName !== 'IFRAME' || f.hasAttribute('data-qualcert-campaign') || f.__qualcertSeen) return;
    var src = f.getAttribute('src') || '';
    if (!src) return;
    f.__qualcertSeen = true;
    try {
      var u = new URL(src, location.href);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return;
      emit({ src: 'page', ev: 'iframe', data: { host: u.hostname, path: u.pathname.slice(0, 200) } });
    } catch (e) { /* unparsable src */ }
  }
  function scanIframes(root) {
    if (!root || root.nodeType !== 1) return;
    if (root.tagName === 'IFRAME') { iframeSeen(root); return; }
    var list = root.getElementsByTagName('iframe');
    for (var i = 0; i < list.length; i++) iframeSeen(list[i]);
  }
  var io = new MutationObserver(function (list) {
    for (var i = 0; i < list.length; i++) {
      var m = list[i];
      if (m.type === 'attributes') { iframeSeen(m.target); continue; }
      for (var j = 0; j < m.addedNodes.length; j++) scanIframes(m.addedNodes[j]);
    }
  });
  io.observe(document.documentElement || document, { childList: true, subtree: true, attributes: true, attributeFilter: ['src'] });
  document.addEventListener('DOMContentLoaded', function () { scanIframes(document.documentElement); });
})();
