// qualcert reference kit: served in place of Qualifio's loader
// (files.qualifio.com/kit/qualp*.js). It implements the documented
// behaviour of the _qual_async queue and speaks the protocol of
// harness/kit/PROTOCOL.md with the reference campaign page.
(function () {
  'use strict';
  var Q = window.__qualcert;
  function emit(ev, div, data) {
    try { if (Q && Q.emit) Q.emit({ src: 'kit', ev: ev, div: div || '', data: data || {} }); } catch (e) { /* ignore */ }
  }
  if (window.__qualcertKit) { emit('kit.loaded', '', { again: true }); return; }
  try { Object.defineProperty(window, '__qualcertKit', { value: true }); } catch (e) { window.__qualcertKit = true; }
  emit('kit.loaded', '', {});

  var frames = {};  // div id → iframe (the live one: a div mounted again gets a new iframe)
  var frameNo = {}; // div id → the live iframe's number in this document
  var seq = 0;      // iframes created in this document
  var order = [];   // div ids in creation order
  var meta = {};    // div id ('' when none was given) → {token}
  var asked = {};   // div id → the campaign asked for metadata
  var scheme = location.protocol === 'http:' ? 'http:' : 'https:';
  var has = Object.prototype.hasOwnProperty;

  function divOf(v) {
    if (typeof v === 'string') return { id: v, kind: 'string' };
    if (v && v.nodeType === 1) return { id: v.id || '', kind: 'element', el: v };
    if (v === undefined || v === null) return { id: '', kind: 'missing' };
    return { id: String(v), kind: typeof v };
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
    if (v && v.nodeType === 1) return { __t: 'element', id: v.id || '' };
    return { __t: typeof v };
  }

  function createIframe(cmd) {
    var d = divOf(cmd[1]);
    var host = String(cmd[2] || ''), type = String(cmd[3] || ''), guid = String(cmd[4] || '');
    var el = d.el || (d.id ? document.getElementById(d.id) : null);
    var info = { host: host, channel_type: type, guid: guid, div_kind: d.kind };
    if (!el) { info.found = false; emit('createIframe', d.id, info); return; }
    var f = document.createElement('iframe');
    var n = ++seq;
    f.src = scheme + '//' + host + '/' + encodeURIComponent(type) + '/' + encodeURIComponent(guid) +
      '/v1.cfm?id=' + encodeURIComponent(guid) + '&div=' + encodeURIComponent(d.id) + '&frame=' + n;
    f.title = 'Qualifio campaign';
    f.setAttribute('frameborder', '0');
    f.setAttribute('scrolling', 'no');
    f.setAttribute('data-qualcert-campaign', d.id);
    f.style.cssText = 'border:0;display:block;max-width:100%;width:' + size(cmd[5], '100%') + ';height:' + size(cmd[6], '640px') + ';' + (typeof cmd[10] === 'string' ? cmd[10] : '');
    f.addEventListener('load', function () { emit('iframe.loaded', d.id, { frame: n }); });
    if (!has.call(frames, d.id)) order.push(d.id);
    frames[d.id] = f;
    frameNo[d.id] = n;
    info.found = true;
    info.frame = n;
    el.appendChild(f);
    emit('createIframe', d.id, info);
  }

  function setMetaData(cmd) {
    var d = divOf(cmd[3]);
    var tok = cmd[2];
    emit('setMetaData', d.id, { type: describe(cmd[1]), div_kind: d.kind, token: describe(tok), token_type: tok === null ? 'null' : typeof tok });
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
    if (m) jwt = (typeof m.token === 'string' || m.token === null || m.token === undefined) ? (m.token === undefined ? null : m.token) : { __t: m.token && m.token.nodeType === 1 ? 'element' : typeof m.token };
    f.contentWindow.postMessage({ qualifio: true, type: 'qualifio:metaData', divId: div, jwt: jwt, hasMeta: !!m }, '*');
    emit('metadata.sent', div, { has_meta: !!m, frame: frameNo[div] || 0 });
  }

  window.addEventListener('message', function (e) {
    var d = e.data;
    if (!d || typeof d !== 'object' || d.qualifio !== true) return;
    var div = null;
    for (var i = 0; i < order.length; i++) if (frames[order[i]].contentWindow === e.source) div = order[i];
    if (div === null) return;
    if (d.type === 'qualifio:getMetaData') { asked[div] = true; send(div); }
  });

  function run(cmd) {
    try {
      if (!cmd || typeof cmd !== 'object' || typeof cmd.length !== 'number') { emit('command.invalid', '', {}); return; }
      if (cmd[0] === 'createIframe') createIframe(cmd);
      else if (cmd[0] === 'setMetaData') setMetaData(cmd);
      else emit('command.unknown', '', { name: String(cmd[0]) });
    } catch (e) {
      emit('kit.error', '', { message: String(e && e.message) });
    }
  }

  var q = window._qual_async;
  if (!q || typeof q.push !== 'function') { q = []; window._qual_async = q; }
  var pending = [];
  if (Array.isArray(q)) { pending = q.slice(); q.length = 0; }
  q.push = function () { for (var i = 0; i < arguments.length; i++) run(arguments[i]); return 0; };
  for (var i = 0; i < pending.length; i++) run(pending[i]);
})();
