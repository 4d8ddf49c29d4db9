// daapd web pages: player bar, in-page navigation (so playback survives
// moving between pages), live status, keyboard shortcuts, Media Session.
(() => {
  'use strict';
  const $ = (s, el = document) => el.querySelector(s);
  const audio = $('#audio');
  const bar = $('#player');

  // Codecs this browser plays, asked once; the server picks the original
  // file or a transcode for each stream from this list.
  const probe = {
    mp3: 'audio/mpeg', aac: 'audio/mp4; codecs="mp4a.40.2"', alac: 'audio/mp4; codecs="alac"',
    flac: 'audio/flac', vorbis: 'audio/ogg; codecs="vorbis"', opus: 'audio/ogg; codecs="opus"',
    wav: 'audio/wav; codecs="1"', aiff: 'audio/aiff',
  };
  const plays = audio ? Object.keys(probe).filter(k => audio.canPlayType(probe[k]) !== '').join('.') : '';

  // --- Player ---
  let queue = [], pos = -1;
  const fmt = s => {
    if (!isFinite(s) || s < 0) s = 0;
    s = Math.floor(s);
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, x = String(s % 60).padStart(2, '0');
    return h ? `${h}:${String(m).padStart(2, '0')}:${x}` : `${m}:${x}`;
  };
  const say = msg => { const el = $('#np-msg'); if (el) el.textContent = msg || ''; };

  function rowTrack(tr) {
    const album = tr.querySelector('.c-album');
    const h1 = $('.albumhead h1');
    return {
      id: tr.dataset.id, art: tr.dataset.art !== '0' ? tr.dataset.art : '',
      title: tr.querySelector('.tt').textContent,
      artist: tr.querySelector('.c-artist').textContent,
      album: album ? album.textContent : (h1 ? h1.textContent : ''),
    };
  }

  function load(i, autoplay = true) {
    if (i < 0 || i >= queue.length) return;
    pos = i;
    const t = queue[i];
    audio.src = `/web/stream/${t.id}?ok=${plays}`;
    bar.hidden = false;
    document.body.classList.add('playing');
    $('#np-title').textContent = t.title;
    $('#np-sub').textContent = [t.artist, t.album].filter(Boolean).join(' · ');
    const cover = $('#np-cover');
    cover.style.backgroundImage = t.art ? `url("/web/art/${t.art}?s=160")` : '';
    cover.classList.toggle('noart', !t.art);
    say('');
    if (autoplay) audio.play().catch(e => { if (e.name !== 'AbortError') say('Cannot play: ' + e.message); });
    markCurrent();
    if ('mediaSession' in navigator) {
      navigator.mediaSession.metadata = new MediaMetadata({
        title: t.title, artist: t.artist, album: t.album,
        artwork: t.art ? [96, 256, 512].map(s => ({ src: `/web/art/${t.art}?s=${s}`, sizes: `${s}x${s}` })) : [],
      });
    }
    save();
  }

  function markCurrent() {
    const id = pos >= 0 ? queue[pos].id : null;
    document.querySelectorAll('tr[data-id]').forEach(tr => tr.classList.toggle('current', tr.dataset.id === id));
  }

  function playFrom(table, row) {
    const rows = [...table.querySelectorAll('tbody tr[data-id]')];
    queue = rows.map(rowTrack);
    load(row ? rows.indexOf(row) : 0);
  }
  const toggle = () => { if (pos < 0) return; audio.paused ? audio.play() : audio.pause(); };
  const next = () => { if (pos + 1 < queue.length) load(pos + 1); };
  const prev = () => { if (audio.currentTime > 3 || pos === 0) audio.currentTime = 0; else load(pos - 1); };
  const seekBy = d => { if (pos >= 0) audio.currentTime = Math.max(0, Math.min(audio.duration || 0, audio.currentTime + d)); };

  // The queue and position survive a reload (not playback itself: browsers
  // want a gesture for that).
  function save() {
    try { sessionStorage.setItem('daapd-queue', JSON.stringify({ queue, pos, t: audio.currentTime || 0 })); } catch (e) {}
  }
  function restore() {
    try {
      const s = JSON.parse(sessionStorage.getItem('daapd-queue') || 'null');
      if (!s || !s.queue || !s.queue.length) return;
      queue = s.queue;
      load(s.pos, false);
      audio.addEventListener('loadedmetadata', () => { if (s.t) audio.currentTime = s.t; }, { once: true });
    } catch (e) {}
  }

  if (audio) {
    const seek = $('#seek');
    let dragging = false;
    audio.addEventListener('timeupdate', () => {
      $('#t-cur').textContent = fmt(audio.currentTime);
      if (!dragging && audio.duration) seek.value = Math.round(audio.currentTime / audio.duration * 1000);
      if ('mediaSession' in navigator && audio.duration && navigator.mediaSession.setPositionState) {
        try { navigator.mediaSession.setPositionState({ duration: audio.duration, position: audio.currentTime, playbackRate: 1 }); } catch (e) {}
      }
    });
    audio.addEventListener('durationchange', () => { $('#t-dur').textContent = fmt(audio.duration); });
    audio.addEventListener('play', () => bar.classList.add('on'));
    audio.addEventListener('pause', () => { bar.classList.remove('on'); save(); });
    audio.addEventListener('ended', () => { if (pos + 1 < queue.length) load(pos + 1); else bar.classList.remove('on'); });
    audio.addEventListener('error', () => {
      const e = audio.error;
      if (e && audio.src) say(e.code === 4 ? 'This browser cannot play this file' : 'The stream failed');
    });
    seek.addEventListener('input', () => { dragging = true; $('#t-cur').textContent = fmt(seek.value / 1000 * (audio.duration || 0)); });
    seek.addEventListener('change', () => { dragging = false; if (audio.duration) audio.currentTime = seek.value / 1000 * audio.duration; });
    $('#play').addEventListener('click', toggle);
    $('#next').addEventListener('click', next);
    $('#prev').addEventListener('click', prev);
    if ('mediaSession' in navigator) {
      const ms = navigator.mediaSession;
      const on = (a, f) => { try { ms.setActionHandler(a, f); } catch (e) {} };
      on('play', () => audio.play()); on('pause', () => audio.pause());
      on('nexttrack', next); on('previoustrack', prev);
      on('seekbackward', d => seekBy(-(d.seekOffset || 10))); on('seekforward', d => seekBy(d.seekOffset || 10));
      on('seekto', d => { audio.currentTime = d.seekTime; });
    }
    window.addEventListener('pagehide', save);
  }

  document.addEventListener('click', e => {
    const b = e.target.closest('button.play');
    if (b) { const tr = b.closest('tr'); playFrom(tr.closest('table'), tr); return; }
    const all = e.target.closest('.playall');
    if (all) { const t = $('#main table.tracks'); if (t) playFrom(t, null); return; }
  });
  document.addEventListener('dblclick', e => {
    const tr = e.target.closest('table.tracks tbody tr');
    if (tr && !e.target.closest('a')) playFrom(tr.closest('table'), tr);
  });

  // Keyboard: Space play/pause, ← → seek 10 s, Shift+← → previous/next, / search.
  document.addEventListener('keydown', e => {
    const tag = (e.target.tagName || '').toLowerCase();
    if (tag === 'input' || tag === 'textarea' || e.metaKey || e.ctrlKey || e.altKey) return;
    if (e.key === '/') { const s = $('.search input'); if (s) { e.preventDefault(); s.focus(); s.select(); } return; }
    if (pos < 0) return;
    if (e.key === ' ' && tag !== 'button' && tag !== 'a') { e.preventDefault(); toggle(); }
    else if (e.key === 'ArrowRight') { e.preventDefault(); e.shiftKey ? next() : seekBy(10); }
    else if (e.key === 'ArrowLeft') { e.preventDefault(); e.shiftKey ? prev() : seekBy(-10); }
  });

  // Broken covers fall back to the placeholder colour.
  document.addEventListener('error', e => {
    if (e.target.tagName === 'IMG') e.target.remove();
  }, true);

  // --- In-page navigation: swap <main> so the player keeps playing. ---
  async function go(url, push) {
    try {
      const res = await fetch(url, { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
      const type = res.headers.get('Content-Type') || '';
      if (!type.startsWith('text/html') || res.redirected && new URL(res.url).pathname === '/signin') { location.href = url; return; }
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const main = doc.getElementById('main');
      if (!main) { location.href = url; return; }
      $('#main').replaceWith(main);
      document.title = doc.title;
      const nav = $('.tabs'), newNav = doc.querySelector('.tabs');
      if (nav && newNav) nav.replaceWith(newNav);
      const q = $('.search input'), nq = doc.querySelector('.search input');
      if (q && nq) q.value = nq.value;
      if (push) history.pushState({}, '', res.url);
      if (push) window.scrollTo(0, 0);
      markCurrent();
      showTab();
      live();
    } catch (e) { location.href = url; }
  }
  const internal = a => a && a.origin === location.origin && !a.target && !a.hasAttribute('download') &&
    !a.pathname.startsWith('/web/') && a.pathname !== '/metrics';
  document.addEventListener('click', e => {
    const a = e.target.closest('a[href]');
    if (!audio || !internal(a) || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (a.hash && a.pathname === location.pathname && a.search === location.search) return;
    e.preventDefault();
    go(a.href, true);
  });
  document.addEventListener('submit', e => {
    const f = e.target;
    if (!audio || (f.method || 'get').toLowerCase() !== 'get') return;
    e.preventDefault();
    const u = new URL(f.action, location.href);
    u.search = new URLSearchParams(new FormData(f)).toString();
    go(u.href, true);
  });
  window.addEventListener('popstate', () => go(location.href, false));

  // --- Live status: poll while the status page is shown; fast while scanning. ---
  let timer = 0;
  function live() {
    clearTimeout(timer);
    const card = $('#scan');
    if (!card) return;
    const tick = async () => {
      if (!document.body.contains(card)) return;
      try {
        const r = await fetch('/web/status.json', { credentials: 'same-origin' });
        if (r.ok) {
          const s = await r.json();
          const n = v => typeof v === 'number' ? v.toLocaleString() : v;
          document.querySelectorAll('[data-live]').forEach(el => {
            const k = el.dataset.live;
            if (k === 'state') { el.textContent = s.scanning ? 'Scanning' : 'Sharing'; el.className = 'pill ' + (s.scanning ? 'live' : 'ok'); }
            else if (k in s && s[k] !== '' && s[k] !== null) el.textContent = n(s[k]);
          });
          card.dataset.scanning = String(s.scanning);
          timer = setTimeout(tick, s.scanning ? 1000 : 10000);
          return;
        }
      } catch (e) {}
      timer = setTimeout(tick, 10000);
    };
    timer = setTimeout(tick, card.dataset.scanning === 'true' ? 1000 : 10000);
  }

  // On a phone the tabs scroll sideways: keep the current one in view.
  function showTab() {
    const tabs = $('.tabs'), cur = $('.tabs [aria-current]');
    if (tabs && cur && tabs.scrollWidth > tabs.clientWidth) tabs.scrollLeft = cur.offsetLeft - (tabs.clientWidth - cur.offsetWidth) / 2;
  }

  if (audio) restore();
  showTab();
  live();
})();
