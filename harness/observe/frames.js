  // --- frames.js, shared by recorder.js and page.js (observe.go puts it
  // in both, so that the two worlds follow the same frames) ---
  // The profile's campaign hosts (filled in by the harness): the kit
  // refuses an iframe on any other host (it would load from the real
  // network), and a frame on one of them is a campaign's, not the page's.
  var HOSTS = null; /*qualcert:hosts*/
  // campaignHost: a Qualifio host or a campaign host of the profile.
  function campaignHost(h) {
    h = String(h).toLowerCase();
    return /(^|\.)qualifio(app)?\.com\.?$/.test(h) || !!(HOSTS && HOSTS.indexOf(h) >= 0);
  }
  // followedFrame: where the tag is followed. The top page, and every
  // frame of a web origin but the campaigns' own. A CMS renders the
  // contest block in a srcdoc or same-origin iframe; an article widget or
  // an embed host of the publisher serves it from another origin (another
  // host, or another port of the same host), and the tag runs there as in
  // the top page: Qualifio's kit, in that frame, creates the campaign
  // iframe in that frame's div and answers its getMetaData. Not followed:
  // a frame of a Qualifio host or of a campaign host of the profile (the
  // campaign's own), and a frame of an opaque origin (a sandbox without
  // allow-same-origin).
  function followedFrame() {
    if (window.top === window) return true;
    // window.origin: a srcdoc or about:blank frame inherits its parent's
    // origin, which its location does not show.
    var o = window.origin;
    try { if (o !== 'null' && window.top.origin === o) return true; } catch (e) { /* another origin */ }
    var m = /^https?:\/\/(\[[^\]]*\]|[^:\/]*)/i.exec(o || '');
    return !!m && !campaignHost(m[1]);
  }
  // --- end of frames.js ---
