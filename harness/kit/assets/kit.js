// qualcert reference kit, the loader's part: served in place of Qualifio's
// loader (files.qualifio.com/kit/qualp*.js), it runs in the page's world and
// does no more than the page itself could: it takes over the _qual_async
// queue (replaying what was queued, in order) and hands each command, as
// JSON text, to the reference kit proper, which lives in the harness's
// isolated world (harness/observe/recorder.js) out of the page's reach:
// there the iframes are created, the tokens kept and the campaign's
// getMetaData answered (PROTOCOL.md).
(function () {
  'use strict';
  var doc = document, CE = CustomEvent, dispatch = EventTarget.prototype.dispatchEvent, stringify = JSON.stringify;
  var BIG = 65536;
  var shim = window.__qualcertRelay;
  function relay(o, target) {
    if (typeof shim === 'function') { shim(o, target); return; }
    var s;
    try { s = stringify(o); } catch (e) { return; }
    try { dispatch.call(target || doc, new CE('qualcert:relay', { detail: s })); } catch (e) { /* ignore */ }
  }
  if (window.__qualcertKit) { relay({ k: 'kit', ev: 'kit.loaded', again: true }); return; }
  try { Object.defineProperty(window, '__qualcertKit', { value: true }); } catch (e) { window.__qualcertKit = true; }
  relay({ k: 'kit', ev: 'kit.loaded' });

  // arg describes one argument for the kit: strings whole up to 64 KiB, a
  // longer one as its first 64 KiB and its length (the campaign judges no more),
  // an element in the document as the relay's target, others by type.
  function arg(v, st) {
    if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
    if (typeof v === 'string') return v.length > BIG ? { __t: 'big', length: v.length, head: v.slice(0, 65536) } : v;
    if (v === undefined) return { __t: 'undefined' };
    if (v && v.nodeType === 1) {
      if (!st.target && v.isConnected) { st.target = v; return { __t: 'target', id: v.id || '' }; }
      return { __t: 'element', id: v.id || '' };
    }
    return { __t: typeof v };
  }
  function run(cmd, queued) {
    if (!cmd || typeof cmd !== 'object' || typeof cmd.length !== 'number') { relay({ k: 'run', invalid: true }); return; }
    var st = {}, args = [];
    for (var i = 0; i < cmd.length && i < 16; i++) args.push(arg(cmd[i], st));
    relay({ k: 'run', cmd: args, queued: !!queued }, st.target);
  }

  var q = window._qual_async;
  if (!q || typeof q.push !== 'function') { q = []; window._qual_async = q; }
  var pending = [];
  if (Array.isArray(q)) { pending = q.slice(); q.length = 0; }
  q.push = function () { for (var i = 0; i < arguments.length; i++) run(arguments[i]); return 0; };
  for (var i = 0; i < pending.length; i++) run(pending[i], true);
})();
