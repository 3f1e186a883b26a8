/* main.js of a Next.js-style app (pages router): the client renders the
   route, navigates with history.pushState, and the campaign page mounts its
   Qualifio embed in an effect, with the session fetched by _app.
   /jeux is the contests index: it looks up the current contest and
   redirects to it on the client (router.push), as the site does. */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('__NEXT_DATA__').textContent);
  var cfg = data.runtimeConfig.qualifio;
  var root = document.getElementById('__next');
  var session = null;
  var unmount = null;

  function h(html) { root.innerHTML = '<header class="site">Le Quotidien<nav><a href="/">Une</a><a href="/jeux">Jeux</a></nav></header>' + html; }

  function loadScript(src) {
    if (document.querySelector('script[src="' + src + '"]')) return;
    var s = document.createElement('script');
    s.src = src;
    s.async = true;
    document.head.appendChild(s);
  }

  var pages = [
    { re: /^\/jeux\/?$/, render: function () {
      h('<main><h1>Jeux concours</h1><p>Chargement du jeu en cours…</p></main>');
      var alive = true;
      fetch('/api/contests/current').then(function (r) { return r.json(); }).then(function (c) {
        if (alive) router.push('/jeux/' + c.slug);
      });
      return function () { alive = false; };
    } },
    { re: /^\/jeux\/([a-z0-9-]+)$/, render: function (m) {
      h('<main><div class="kicker">Jeu concours</div><h1>' + m[1].replace(/-/g, ' ') + '</h1>' +
        '<p>Participez et tentez de gagner un séjour pour deux.</p>' +
        '<section class="contest"><div id="' + cfg.div + '"></div></section></main>');
      // useEffect(() => { … }, []): the embed, once the container is in the DOM.
      window._qual_async = window._qual_async || [];
      window._qual_async.push(['createIframe', cfg.div, cfg.host, 'channel', cfg.guid, '100%', '650', '', '', '', '']);
      if (session && session.user) window._qual_async.push(['setMetaData', 'JWT', session.qualifioToken, cfg.div]);
      loadScript(cfg.kit);
      return null;
    } }
  ];

  function render() {
    if (unmount) { unmount(); unmount = null; }
    for (var i = 0; i < pages.length; i++) {
      var m = pages[i].re.exec(location.pathname);
      if (m) { unmount = pages[i].render(m); return; }
    }
    h('<main><h1>Page introuvable</h1></main>');
  }

  var router = {
    push: function (url) {
      history.pushState({ __N: true, url: url, as: url }, '', url);
      render();
    }
  };
  window.addEventListener('popstate', render);

  // _app: the session first (next-auth's /api/auth/session), then the page.
  fetch('/api/auth/session', { credentials: 'same-origin' })
    .then(function (r) { return r.json(); })
    .then(function (s) { session = s; render(); });
})();
