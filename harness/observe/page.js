// qualcert page shim: injected into the page's own JavaScript world before
// any page script. It is the only part of the harness the page can reach,
// and it holds nothing that can change a verdict: it sees the _qual_async
// commands the page pushes (which must be intercepted in the page's world,
// where publishers push them) and relays them, as JSON text, to the
// recorder in the harness's isolated world (recorder.js), which stamps them
// on its own clock when they arrive. A relay the page forges is no more
// than a push the page made at that moment. The old emitter names stay as
// decoys: a page that calls them is tampering with the harness, and the
// recorder says so.
(function () {
  'use strict';
  // The frames the recorder follows (frames.js): the top page, and every
  // frame the tag may run in but the campaigns' own.
  /*qualcert:frames*/
  if (!followedFrame()) return;
  var doc = document, CE = CustomEvent, dispatch = EventTarget.prototype.dispatchEvent, stringify = JSON.stringify;
  function relay(o, target) {
    var s;
    try { s = stringify(o); } catch (e) { return; }
    try { dispatch.call(target || doc, new CE('qualcert:relay', { detail: s })); } catch (e) { /* a detached target */ }
  }
  function decoy(name) {
    var told = false; // once: a page calling it in a loop costs nothing
    return function () { if (!told) { told = true; relay({ k: 'tamper', what: 'emitter.called', name: name }); } };
  }
  // The loader (kit.js) relays through this, with the functions taken
  // before any page script (a page's JSON or CustomEvent polyfill cannot
  // garble what the kit hands over). The page may call it too: that is a
  // push, at the moment it arrives.
  try { Object.defineProperty(window, '__qualcertRelay', { value: function (o, target) { relay(o, target); } }); } catch (e) { /* ignore */ }

  // A page listener that stops a Qualifio message from a campaign iframe
  // keeps it from Qualifio's real kit (and from the window's other
  // listeners): reported, once per message type. The reference kit, in the
  // isolated world, has seen it first either way.
  var dataOf = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data').get;
  var sourceOf = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'source').get;
  var qsa = Document.prototype.querySelectorAll, getAttr = Element.prototype.getAttribute;
  var frameWin = Object.getOwnPropertyDescriptor(HTMLIFrameElement.prototype, 'contentWindow').get;
  var told = {};
  function watchStop(name) {
    var orig = Event.prototype[name];
    if (typeof orig !== 'function') return;
    var w = function () {
      try {
        if (this instanceof MessageEvent) {
          var d = dataOf.call(this), src = sourceOf.call(this);
          if (d && typeof d === 'object' && d.qualifio === true && src) {
            var list = qsa.call(doc, 'iframe[data-qualcert-campaign]');
            for (var i = 0; i < list.length; i++) {
              if (frameWin.call(list[i]) !== src) continue;
              var type = String(d.type || '');
              if (!told[type]) { told[type] = true; relay({ k: 'tamper', what: 'message.swallowed', name: type, div: getAttr.call(list[i], 'data-qualcert-campaign') }); }
              break;
            }
          }
        }
      } catch (e) { /* never break the page's own call */ }
      return orig.apply(this, arguments);
    };
    try { Object.defineProperty(Event.prototype, name, { value: w, configurable: true, writable: true }); } catch (e) { /* ignore */ }
  }
  watchStop('stopImmediatePropagation');
  watchStop('stopPropagation');

  try {
    Object.defineProperty(window, '__qualcertEmit', { value: decoy('__qualcertEmit') });
    Object.defineProperty(window, '__qualcert', { value: Object.freeze({ emit: decoy('__qualcert.emit'), now: decoy('__qualcert.now') }) });
  } catch (e) { /* ignore */ }

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
    relay({ k: 'command', how: how, args: args });
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
        set: function (f) { inner = f; replaced = true; relay({ k: 'queue.taken' }); }
      });
    } catch (e) { /* frozen queue: commands are still seen by the reference kit */ }
  }
  var current;
  try {
    Object.defineProperty(window, '_qual_async', {
      configurable: true, enumerable: true,
      get: function () { return current; },
      set: function (v) { current = v; relay({ k: 'sign', kind: 'queue' }); wrapQueue(v); }
    });
  } catch (e) { /* the page redefined it first: only the kit's own relays remain */ }
})();
