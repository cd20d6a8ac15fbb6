// moco-stream dashboard: polls /api/state and draws it. Every string from the server came from a topic and is
// untrusted: it only ever reaches the page through textContent or attribute setters, never as markup.
'use strict';
(function () {
  const COLORS = ['#2a7ae2', '#e2542a', '#2aa24a', '#9a4ae2', '#e2a72a', '#2ac2c2', '#c22a7a', '#7a7a7a'];
  const charts = {}; // id -> {plot, key}
  let polls = 0;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v; else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c == null) continue;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  function num(x, digits) {
    return x == null || !isFinite(x) ? '–' : Number(x).toFixed(digits);
  }

  function when(ms) {
    return ms == null ? '–' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  }

  function img(src, title) {
    const i = el('img', {class: 'px', alt: title || ''});
    if (title) i.title = title;
    if (typeof src === 'string' && src.startsWith('data:image/png;base64,')) i.src = src; // only our own PNGs
    return i;
  }

  // A uPlot chart in container `box`, created once per series layout and then only fed new data.
  function chart(box, id, title, seriesDefs, data, xIsTime) {
    const points = data.length > 1 ? data[1].filter(v => v != null).length : 0;
    box.setAttribute('data-points', String(points));
    const key = JSON.stringify(seriesDefs.map(s => s.label)) + xIsTime;
    let c = charts[id];
    if (!c || c.key !== key || !box.contains(c.plot.root)) {
      if (c) c.plot.destroy();
      box.replaceChildren(el('div', {class: 'title'}, title));
      const width = Math.max(380, box.clientWidth || 430);
      const opts = {
        width: width, height: 200,
        // one point (one minute, one version) would otherwise stretch the axis over years or a unit fraction
        scales: {x: {time: !!xIsTime, range: (u, min, max) => min === max
          ? [min - (xIsTime ? 300 : 1), max + (xIsTime ? 300 : 1)] : [min, max]}},
        axes: [{}, {size: 64}], // room for six-digit counts (lag)
        series: [{label: xIsTime ? 'time' : 'x'}].concat(seriesDefs.map((s, i) => ({
          label: s.label, stroke: s.color || COLORS[i % COLORS.length], width: s.width || 1.5,
          dash: s.dash, spanGaps: !s.bars, points: {show: s.points || false},
          paths: s.bars ? uPlot.paths.bars({size: [0.8, 24], align: 0}) : undefined,
          fill: s.bars ? (s.color || COLORS[i % COLORS.length]) + '99' : undefined
        }))),
        legend: {show: true}
      };
      c = charts[id] = {plot: new uPlot(opts, data, box), key: key};
    } else {
      c.plot.setData(data);
    }
    box.setAttribute('data-drawn', 'true');
  }

  function modelSection(m, idx) {
    const id = 'model-' + idx;
    let s = document.getElementById(id);
    if (!s) {
      s = el('section', {class: 'model', id: id},
        el('h2', {}, el('span', {class: 'name'}), ' ', el('small', {class: 'summary'})),
        el('div', {class: 'facts'}),
        el('div', {class: 'charts'},
          el('div', {class: 'chart', 'data-chart': 'loss'}),
          el('div', {class: 'chart', 'data-chart': 'ips'}),
          el('div', {class: 'chart', 'data-chart': 'knn'}),
          el('div', {class: 'chart', 'data-chart': 'lag'})),
        el('h3', {}, 'Versions ', el('small', {}, '(verified: SHA-256 and signature by a trusted key)')),
        el('table', {class: 'grid versions'},
          el('thead', {}, el('tr', {}, ...['version', 'parent', 'step', 'created', 'kNN', 'loss', 'images/s',
            'bytes', 'sha256', 'key', 'steps', 'offsets trained on'].map(h => el('th', {}, h)))),
          el('tbody')),
        el('h3', {}, 'Nearest neighbours ', el('small', {class: 'nn-note'})),
        el('div', {class: 'nn'}));
      document.getElementById('models').appendChild(s);
    }
    s.setAttribute('data-model', m.name);
    s.querySelector('.name').textContent = m.name;
    s.querySelector('.summary').textContent = m.stepCount + ' steps, ' + m.versions.length + ' verified versions';

    const refused = Object.entries(m.refused || {}).map(([k, v]) => k + ' ' + v).join(', ');
    const b = m.baselines;
    s.querySelector('.facts').replaceChildren(
      el('span', {class: 'lag', 'data-lag': m.lag == null ? '' : String(m.lag)}, 'consumer lag: ',
        el('b', {}, m.lag == null ? 'no committed offsets' : String(m.lag))),
      el('span', {}, 'refused versions: ', el('b', {}, refused || 'none')),
      el('span', {class: 'baselines', 'data-raw': b ? String(b.rawPixels) : '', 'data-random': b ? String(b.randomInit) : ''},
        'baselines: raw pixels ', el('b', {}, b ? num(b.rawPixels, 4) : '…'), ', random init ',
        el('b', {}, b ? num(b.randomInit, 4) : '…')));

    const st = m.steps;
    const boxes = s.querySelectorAll('.chart');
    chart(boxes[0], id + '-loss', 'InfoNCE loss per step', [{label: 'loss'}], [st.step, st.loss]);
    chart(boxes[1], id + '-ips', 'images/s per step (step-log times)', [{label: 'images/s', color: COLORS[2]}],
      [st.step, st.imagesPerSecond]);
    const vs = m.versions;
    const xs = vs.map(v => v.version);
    chart(boxes[2], id + '-knn', 'kNN top-1 per version', [
      {label: 'version kNN', points: true},
      {label: 'raw pixels', color: COLORS[1], dash: [6, 4]},
      {label: 'random init', color: COLORS[7], dash: [2, 4]}],
      [xs, vs.map(v => v.knn), xs.map(() => b ? b.rawPixels : null), xs.map(() => b ? b.randomInit : null)]);
    chart(boxes[3], id + '-lag', 'consumer lag of the frames topic (records)', [{label: 'lag', color: COLORS[3]}],
      [m.lagHistory.time.map(t => t / 1000), m.lagHistory.lag], true);

    const tbody = s.querySelector('table.versions tbody');
    tbody.replaceChildren(...vs.slice().reverse().map(v => el('tr', {'data-version': String(v.version)},
      el('td', {class: 'num'}, String(v.version)), el('td', {class: 'num'}, v.parent == null ? '–' : String(v.parent)),
      el('td', {class: 'num'}, String(v.step)), el('td', {}, when(v.createdAt)),
      el('td', {class: 'num'}, num(v.knn, 4)), el('td', {class: 'num'}, num(v.loss, 3)),
      el('td', {class: 'num'}, num(v.imagesPerSecond, 1)), el('td', {class: 'num'}, String(v.bytes)),
      el('td', {}, String(v.sha256).slice(0, 12)), el('td', {}, v.keyId), el('td', {}, v.steps),
      el('td', {class: 'msg'}, (v.offsets || []).join(' ')))));
    s.querySelector('table.versions').setAttribute('data-rows', String(vs.length));

    const nn = s.querySelector('.nn');
    const n = m.neighbours;
    if (n && nn.getAttribute('data-version') !== String(n.version)) {
      s.querySelector('.nn-note').textContent = '(version ' + n.version + '; query → its five nearest probe images, ' + n.probe + ')';
      let loaded = 0, total = 0;
      const rows = n.queries.map(q => {
        const cells = [el('div', {class: 'nn-cell'}, img(q.image, q.label), el('br'), q.label), el('span', {class: 'arrow'}, '→')];
        for (const x of q.neighbours) {
          cells.push(el('div', {class: 'nn-cell'}, img(x.image, x.label), el('br'), x.label + ' ' + num(x.similarity, 2)));
        }
        return el('div', {class: 'nn-row'}, ...cells);
      });
      nn.replaceChildren(...rows);
      nn.querySelectorAll('img').forEach(i => {
        total++;
        const done = () => { loaded++; nn.setAttribute('data-images-loaded', String(loaded)); };
        if (i.complete && i.naturalWidth > 0) done(); else i.addEventListener('load', done);
      });
      nn.setAttribute('data-images', String(total));
      nn.setAttribute('data-version', String(n.version));
    }
  }

  function deadLetters(d) {
    const reasons = Object.keys(d.series);
    const box = document.getElementById('dlq-chart');
    box.setAttribute('data-reasons', reasons.join(','));
    // No dead letters yet: an empty last ten minutes, so the time axis shows now rather than 1970.
    const now = Math.floor(Date.now() / 60000) * 60;
    const minutes = d.minutes.length ? d.minutes.map(t => t / 1000) : [now - 600, now];
    chart(box, 'dlq', 'dead letters per minute', reasons.map(r => ({label: r, bars: true})),
      [minutes].concat(reasons.map(r => d.minutes.length ? d.series[r] : [null, null])), true);
    document.getElementById('dlq-totals').replaceChildren(...Object.entries(d.totals).map(([r, c]) =>
      el('span', {class: 'reason', 'data-reason': r}, r + ': ', el('b', {}, String(c)))));
    const tb = document.querySelector('#dlq-recent tbody');
    tb.replaceChildren(...d.recent.map(x => el('tr', {},
      el('td', {}, when(x.time)), el('td', {}, x.reason), el('td', {}, x.stage), el('td', {}, x.origin),
      el('td', {class: 'msg'}, x.message))));
    document.getElementById('dlq-recent').setAttribute('data-rows', String(d.recent.length));
  }

  function frames(f) {
    document.getElementById('frames-topic').textContent = f.topic ? '(' + f.topic + ')' : '(no frames topic yet)';
    const box = document.getElementById('frames');
    box.replaceChildren(...f.newest.map(x => el('div', {class: 'frame', 'data-offset': String(x.offset)},
      img(x.image, 'frame'), ...x.views.map(v => img(v, 'augmented view')), el('br'),
      x.source, el('br'), x.topic + '-' + x.partition + '@' + x.offset + ' ' + x.size
        + (x.label == null ? '' : ' label ' + x.label))));
    box.setAttribute('data-frames', String(f.newest.length));
  }

  function render(s) {
    s.models.forEach(modelSection);
    deadLetters(s.deadLetters);
    frames(s.frames);
    document.getElementById('errors').replaceChildren(...(s.errors.length ? s.errors : ['none']).map(e => el('li', {}, e)));
    polls++;
    document.body.setAttribute('data-polls', String(polls));
    document.body.setAttribute('data-models', String(s.models.length));
    document.getElementById('status').textContent = 'updated ' + when(s.now)
      + (s.unreadableSteps ? ', ' + s.unreadableSteps + ' unreadable step records skipped' : '')
      + (s.ignoredSteps ? ', ' + s.ignoredSteps + ' steps of models not followed (see --model)' : '');
  }

  async function poll() {
    try {
      const r = await fetch('api/state', {cache: 'no-store'});
      if (!r.ok) throw new Error('HTTP ' + r.status);
      render(await r.json());
    } catch (e) {
      document.getElementById('status').textContent = 'cannot reach the dashboard: ' + e.message;
    }
    setTimeout(poll, 2000);
  }
  poll();
})();
