/* remount-app.js: a React-style component tree. <Contest key={session ?
   session.id : 'anonymous'} session={session}/>: when the session arrives
   the key changes, so the old contest (its div and the Qualifio iframe in
   it) is unmounted and a new one mounted under the same div id, which
   pushes the participant's token. A consent banner (CMP) shows up on its
   own schedule, as on the site. */
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('app-config').textContent).qualifio;
  var root = document.getElementById('root');
  var KIT = 'https://files.qualifio.com/kit/qualp.2.min.js';
  var mounted = null; // {key, el}

  function Contest(props) {
    var el = document.createElement('section');
    el.className = 'contest';
    el.innerHTML = '<h2>Le grand jeu</h2><div id="' + cfg.div + '"></div>';
    return {
      el: el,
      didMount: function () {
        window._qual_async = window._qual_async || [];
        if (props.session) window._qual_async.push(['setMetaData', 'JWT', props.session.qualifioToken, cfg.div]);
        window._qual_async.push(['createIframe', cfg.div, cfg.host, 'channel', cfg.guid, '100%', '650', '', '', '', '']);
        if (!document.querySelector('script[src="' + KIT + '"]')) {
          var s = document.createElement('script'); s.async = true; s.src = KIT; document.head.appendChild(s);
        }
      }
    };
  }

  // reconcile: same key, keep; another key, unmount and mount anew.
  function render(session) {
    var key = session ? 'user-' + session.id : 'anonymous';
    if (mounted && mounted.key === key) return;
    if (mounted) root.removeChild(mounted.el);
    var c = Contest({ session: session });
    root.appendChild(c.el);
    mounted = { key: key, el: c.el };
    c.didMount();
  }

  render(null);
  fetch('/api/session', { credentials: 'same-origin' })
    .then(function (r) { return r.json(); })
    .then(function (s) { render(s.user ? s : null); });

  // The CMP's banner, loaded asynchronously.
  setTimeout(function () {
    var b = document.createElement('div');
    b.className = 'cmp';
    b.setAttribute('role', 'region');
    b.innerHTML = 'Nous utilisons des cookies pour mesurer l\'audience. <button type="button">Accepter</button><button type="button">Refuser</button>';
    document.body.appendChild(b);
    b.querySelectorAll('button').forEach(function (x) { x.onclick = function () { b.remove(); }; });
  }, 600);
})();
