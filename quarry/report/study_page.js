// Draws a study's charts with Chart.js 3 into the canvases of the page quarry/report/study_page.cpp
// writes (ids chart-history-K, chart-importance, chart-contour, chart-parallel, chart-slice-I,
// chart-curves, chart-budgets, chart-timeline, chart-pareto-A-B, chart-fact-I) and fills the
// table #quarry-trials. Its input is study_json(): quarryDrawStudy(data). A canvas the page does
// not have is skipped; calling it again redraws everything (the dashboard does, as trials arrive).
'use strict';

(function() {
const COLORS =
    ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000'];
const STATE_COLORS = {
  complete: '#0072b2',
  pruned: '#8c959f',
  failed: '#cf222e',
  running: '#e69f00',
  waiting: '#d0d7de'
};
const charts = {};
// Milliseconds each chart took to build and draw, by canvas id (the last time it was drawn).
const times = window.quarryChartTimes = {};

Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial';
Chart.defaults.plugins.legend.labels.boxWidth = 12;

function draw(id, config) {
  const canvas = document.getElementById(id);
  if (!canvas) return null;
  if (charts[id]) charts[id].destroy();
  const start = performance.now();
  charts[id] = new Chart(canvas, config);
  times[id] = performance.now() - start;
  return charts[id];
}

function title(text) { return {display: true, text: text}; }

function label(v) {
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return (a !== 0 && (a < 1e-3 || a >= 1e5)) ? v.toExponential(2) : String(+v.toPrecision(4));
}

// A colour from light yellow (t = 0) to dark blue (t = 1): viridis, reversed, by five stops.
function ramp(t) {
  const stops = [[253, 231, 37], [94, 201, 98], [33, 145, 140], [59, 82, 139], [68, 1, 84]];
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const c = stops[i].map((s, k) => Math.round(s + f * (stops[i + 1][k] - s)));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

// Parameter values on the unit interval the sampler uses (log-scaled ones on a log axis).
function toUnit(p, v) {
  if (v === undefined || v === null) return null;
  if (p.choices) {
    const i = p.choices.indexOf(String(v));
    return i < 0 ? null : (i + 0.5) / p.choices.length;
  }
  if (p.high === p.low) return 0.5;
  if (p.log) return (Math.log(v) - Math.log(p.low)) / (Math.log(p.high) - Math.log(p.low));
  return (v - p.low) / (p.high - p.low);
}

function fromUnit(p, u) {
  if (p.choices) return p.choices[Math.min(p.choices.length - 1, Math.floor(u * p.choices.length))];
  const v = p.log ? Math.exp(Math.log(p.low) + u * (Math.log(p.high) - Math.log(p.low))) :
                    p.low + u * (p.high - p.low);
  return p.kind === 'int' ? Math.round(v) : v;
}

// The smallest and largest of `values` (Math.min(...values) fails past ~100,000 arguments).
function extent(values) {
  let low = Infinity, high = -Infinity;
  for (const v of values) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return [low, high];
}

function better(direction, a, b) { return direction === 'maximize' ? a > b : a < b; }

function complete(data) {
  return data.trials.filter(
      t => t.state === 'complete' && t.values.length > 0 && t.values[0] !== null);
}

function history(data, k) {
  const direction = data.directions[k] || 'minimize';
  const done = data.trials.filter(
      t => t.state === 'complete' && t.values[k] !== null && t.values[k] !== undefined);
  const points = [], best = [], infeasible = [];
  let incumbent = null;
  for (const t of done) {
    const y = t.values[k];
    if (t.feasible === false) {
      infeasible.push({x: t.number, y: y});
      continue;
    }
    points.push({x: t.number, y: y});
    if (incumbent === null || better(direction, y, incumbent)) incumbent = y;
    best.push({x: t.number, y: incumbent});
  }
  const datasets = [
    {
      type: 'scatter',
      label: 'trial',
      data: points,
      backgroundColor: COLORS[0] + 'aa',
      pointRadius: 3
    },
    {
      type: 'line',
      label: 'best so far',
      data: best,
      borderColor: COLORS[5],
      stepped: true,
      pointRadius: 0,
      borderWidth: 2
    }
  ];
  if (infeasible.length)
    datasets.push({
      type: 'scatter',
      label: 'infeasible',
      data: infeasible,
      pointStyle: 'crossRot',
      borderColor: STATE_COLORS.failed,
      pointRadius: 5
    });
  draw('chart-history-' + k, {
    type: 'scatter',
    data: {datasets: datasets},
    options: {
      plugins: {title: title(`${data.metrics[k]} (${direction}) per trial`)},
      scales: {x: {title: title('trial')}, y: {title: title(data.metrics[k])}}
    }
  });
}

function importance(data) {
  if (!data.importance) return;
  draw('chart-importance', {
    type: 'bar',
    data: {
      labels: data.importance.map(e => e.param),
      datasets: [
        {label: 'importance', data: data.importance.map(e => e.share), backgroundColor: COLORS[0]}
      ]
    },
    options: {
      indexAxis: 'y',
      plugins:
          {legend: {display: false}, title: title(`importance for ${data.metrics[0]} (fANOVA)`)},
      scales: {x: {min: 0, max: 1, title: title('share of the variance')}}
    }
  });
}

function unitAxis(p) {
  return {
    min: 0,
    max: 1,
    title: title(p.name + (p.log ? ' (log)' : '')),
    ticks:
        {callback: u => label(fromUnit(p, u)), stepSize: p.choices ? 1 / p.choices.length : 0.25},
    afterBuildTicks: axis => {
      axis.ticks = p.choices ? p.choices.map((c, i) => ({value: (i + 0.5) / p.choices.length})) :
                               [0, 0.25, 0.5, 0.75, 1].map(u => ({value: u}));
    }
  };
}

function contour(data) {
  if (!data.contour) return;
  const px = data.params.find(p => p.name === data.contour.x);
  const py = data.params.find(p => p.name === data.contour.y);
  const n = data.contour.size, z = data.contour.z;
  let low = Infinity, high = -Infinity;
  for (const v of z)
    if (v !== null) {
      low = Math.min(low, v);
      high = Math.max(high, v);
    }
  const span = high > low ? high - low : 1;
  const cells = {
    id: 'quarry-contour',
    beforeDatasetsDraw(chart) {
      const {ctx, scales: {x, y}} = chart;
      for (let i = 0; i < n; ++i)
        for (let j = 0; j < n; ++j) {
          const v = z[i * n + j];
          if (v === null) continue;
          const x0 = x.getPixelForValue(j / n), x1 = x.getPixelForValue((j + 1) / n);
          const y0 = y.getPixelForValue(i / n), y1 = y.getPixelForValue((i + 1) / n);
          ctx.fillStyle = ramp((v - low) / span);
          ctx.fillRect(x0, y1, x1 - x0 + 0.5, y0 - y1 + 0.5);
        }
    }
  };
  const points =
      complete(data)
          .filter(t => t.params[px.name] !== undefined && t.params[py.name] !== undefined)
          .map(t => ({x: toUnit(px, t.params[px.name]), y: toUnit(py, t.params[py.name])}));
  draw('chart-contour', {
    type: 'scatter',
    data: {
      datasets: [{
        label: 'complete trial',
        data: points,
        backgroundColor: '#ffffff',
        borderColor: '#1f2328',
        pointRadius: 3
      }]
    },
    options: {
      plugins: {
        title: title(
            `${data.metrics[0]} over ${px.name} and ${py.name}: ` +
            `light ${label(low)}, dark ${label(high)}`)
      },
      scales: {x: unitAxis(px), y: unitAxis(py)}
    },
    plugins: [cells]
  });
}

function parallel(data) {
  const params = data.params.filter(p => p.kind !== 'fixed');
  const done = complete(data);
  if (!params.length || !done.length) return;
  const direction = data.directions[0] || 'minimize';
  const values = done.map(t => t.values[0]);
  const [low, high] = extent(values);
  const span = high > low ? high - low : 1;
  const points = [], colors = [];
  for (const t of done) {
    const shade =
        direction === 'maximize' ? (t.values[0] - low) / span : (high - t.values[0]) / span;
    params.forEach((p, k) => {
      points.push({x: k, y: toUnit(p, t.params[p.name])});
      colors.push(ramp(shade));
    });
    points.push({x: params.length, y: (t.values[0] - low) / span});
    colors.push(ramp(shade));
    points.push({x: params.length, y: null});  // a break before the next trial
    colors.push(null);
  }
  const axes = params.map(p => p.name).concat([data.metrics[0]]);
  const ends = {
    id: 'quarry-axis-ends',
    afterDraw(chart) {
      const {ctx, scales: {x, y}} = chart;
      ctx.save();
      ctx.fillStyle = '#656d76';
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'center';
      axes.forEach((name, k) => {
        const px = x.getPixelForValue(k);
        ctx.strokeStyle = '#8c959f';
        ctx.beginPath();
        ctx.moveTo(px, y.getPixelForValue(0));
        ctx.lineTo(px, y.getPixelForValue(1));
        ctx.stroke();
        const p = params[k];
        const top = p ? label(fromUnit(p, 0.999999)) : label(high);
        const bottom = p ? label(fromUnit(p, 0)) : label(low);
        ctx.fillText(top, px, y.getPixelForValue(1) - 4);
        ctx.fillText(bottom, px, y.getPixelForValue(0) + 12);
      });
      ctx.restore();
    }
  };
  draw('chart-parallel', {
    type: 'line',
    data: {
      datasets: [{
        label: 'trials',
        data: points,
        spanGaps: false,
        pointRadius: 0,
        borderWidth: 1,
        segment: {borderColor: c => colors[c.p0DataIndex] || 'transparent'}
      }]
    },
    options: {
      parsing: false,
      normalized: true,
      layout: {padding: {top: 18, bottom: 4}},
      plugins: {
        legend: {display: false},
        title: title(`each line a complete trial; dark: best ${data.metrics[0]}`),
        tooltip: {enabled: false}
      },
      scales: {
        x: {
          type: 'linear',
          min: 0,
          max: params.length,
          grid: {display: false},
          ticks: {stepSize: 1, callback: k => axes[k] || ''}
        },
        y: {min: 0, max: 1, display: false}
      }
    },
    plugins: [ends]
  });
}

function slices(data) {
  const done = complete(data);
  data.params.forEach((p, i) => {
    const have = done.filter(t => t.params[p.name] !== undefined);
    const last = have.length ? have[have.length - 1].number : 1;
    const categorical = !!p.choices;
    const points = have.map(
        t => ({x: categorical ? String(t.params[p.name]) : t.params[p.name], y: t.values[0]}));
    const shades = have.map(t => ramp(0.15 + 0.85 * t.number / Math.max(1, last)));
    const x = categorical ? {type: 'category', labels: p.choices, offset: true} :
        p.log             ? {type: 'logarithmic'} :
                            {type: 'linear'};
    x.title = title(p.name + (p.log ? ' (log)' : ''));
    draw('chart-slice-' + i, {
      type: 'scatter',
      data: {datasets: [{label: p.name, data: points, backgroundColor: shades, pointRadius: 3}]},
      options: {
        plugins: {
          legend: {display: false},
          title: title(
              `${data.metrics[0]} against ${p.name}` +
              ' (darker: later)')
        },
        scales: {x: x, y: {title: title(data.metrics[0])}}
      }
    });
  });
}

function curves(data) {
  const withSteps = data.trials.filter(t => t.steps && t.steps.length);
  if (!withSteps.length) return;
  const points = [], colors = [], stops = [], alone = [];
  for (const t of withSteps) {
    const color = (STATE_COLORS[t.state] || '#8c959f') + '99';
    for (const [step, value] of t.steps) {
      points.push({x: step, y: value});
      colors.push(color);
      alone.push(t.steps.length === 1);  // no line to draw: a dot instead
    }
    points.push({x: t.steps[t.steps.length - 1][0], y: null});
    colors.push(null);
    alone.push(false);
    if (t.state === 'pruned' || t.state === 'failed') {
      const [step, value] = t.steps[t.steps.length - 1];
      stops.push({x: step, y: value});
    }
  }
  draw('chart-curves', {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'intermediate values',
          data: points,
          spanGaps: false,
          pointRadius: c => alone[c.dataIndex] ? 2.5 : 0,
          pointBackgroundColor: c => colors[c.dataIndex] || 'transparent',
          pointBorderWidth: 0,
          borderWidth: 1,
          borderColor: STATE_COLORS.complete,
          segment: {borderColor: c => colors[c.p0DataIndex] || 'transparent'}
        },
        {
          type: 'scatter',
          label: 'stopped here (pruned or failed)',
          data: stops,
          pointStyle: 'crossRot',
          pointRadius: 5,
          borderColor: STATE_COLORS.failed,
          borderWidth: 1.5
        }
      ]
    },
    options: {
      parsing: false,
      normalized: true,
      plugins: {
        title: title('learning curves: blue completed, grey pruned, red failed'),
        tooltip: {enabled: false}
      },
      scales: {x: {type: 'linear', title: title('step')}, y: {title: title(data.metrics[0])}}
    }
  });
}

function byState(trials, point) {
  const sets = {};
  for (const t of trials) {
    const p = point(t);
    if (!p) continue;
    (sets[t.state] = sets[t.state] || []).push(p);
  }
  return Object.keys(sets).map(state => ({
                                 label: state,
                                 data: sets[state],
                                 backgroundColor: STATE_COLORS[state] || '#8c959f',
                                 borderColor: STATE_COLORS[state] || '#8c959f'
                               }));
}

function budgets(data) {
  const trials = data.trials.filter(t => t.budget);
  if (!trials.length) return;
  const values = trials.map(t => t.budget);
  const [smallest, largest] = extent(values);
  const wide = largest > 8 * smallest;
  // Under Hyperband or BOHB: one colour per bracket; each rung is a budget level.
  const brackets = {};
  for (const t of trials)
    if (t.bracket !== undefined) (brackets[t.bracket] = brackets[t.bracket] || []).push(t);
  const byBracket = Object.keys(brackets).map(
      b => ({
        label: `bracket ${b}`,
        data: brackets[b].map(t => ({x: t.number, y: t.budget})),
        backgroundColor: COLORS[b % COLORS.length],
        borderColor: COLORS[b % COLORS.length],
        pointStyle: brackets[b].map(t => t.state === 'complete' ? 'circle' : 'crossRot'),
        pointRadius: 4
      }));
  draw('chart-budgets', {
    type: 'scatter',
    data: {
      datasets: byBracket.length ? byBracket : byState(trials, t => ({x: t.number, y: t.budget}))
    },
    options: {
      plugins: {
        title: title(
            byBracket.length ?
                'budget per trial by bracket: each rung a budget level; crosses did not complete' :
                'budget per trial (promotions run at larger budgets)')
      },
      scales: {
        x: {title: title('trial')},
        y: {type: wide ? 'logarithmic' : 'linear', title: title('budget')}
      }
    }
  });
}

function timeline(data) {
  const ran = data.trials.filter(t => t.worker && t.start);
  if (!ran.length) return;
  const origin = extent(ran.map(t => t.start))[0];
  const now = extent(ran.map(t => t.end || t.start))[1];
  const workers = [...new Set(ran.map(t => t.worker))].sort();
  const canvas = document.getElementById('chart-timeline');
  if (canvas) canvas.parentElement.style.height = `${90 + 24 * Math.min(workers.length, 40)}px`;
  const sets = byState(ran, t => ({y: t.worker, x: [t.start - origin, (t.end || now) - origin]}));
  const requeued = ran.filter(t => t.requeues);
  if (requeued.length)
    sets.push({
      label: 'requeued (ran again)',
      data: requeued.map(t => ({y: t.worker, x: [t.start - origin, (t.end || now) - origin]})),
      backgroundColor: 'transparent',
      borderColor: '#d55e00',
      borderWidth: 2
    });
  for (const set of sets) set.grouped = false;  // one row per worker, bars overlaid
  draw('chart-timeline', {
    type: 'bar',
    data: {labels: workers, datasets: sets},
    options: {
      indexAxis: 'y',
      plugins: {title: title('trials per worker over time (gaps: the worker was idle)')},
      scales: {
        x: {type: 'linear', min: 0, title: title('seconds since the first start')},
        y: {stacked: false, ticks: {autoSkip: false}}
      }
    }
  });
}

function pareto(data) {
  const m = data.directions.length;
  if (m < 2) return;
  const front = new Set(data.front || []);
  const done = data.trials.filter(t => t.state === 'complete' && t.values.length === m);
  for (let a = 0; a < m; ++a)
    for (let b = a + 1; b < m; ++b) {
      const at = t => ({x: t.values[a], y: t.values[b]});
      const onFront = done.filter(t => front.has(t.number)).map(at).sort((p, q) => p.x - q.x);
      const datasets = [
        {
          label: 'Pareto front',
          data: onFront,
          backgroundColor: COLORS[5],
          borderColor: COLORS[5],
          pointRadius: 4,
          showLine: m === 2,
          borderWidth: 1.5
        },
        {
          label: 'feasible',
          data: done.filter(t => t.feasible !== false && !front.has(t.number)).map(at),
          backgroundColor: COLORS[0] + '88',
          pointRadius: 3
        },
        {
          label: 'infeasible',
          data: done.filter(t => t.feasible === false).map(at),
          pointStyle: 'crossRot',
          borderColor: STATE_COLORS.failed,
          pointRadius: 5
        }
      ];
      draw(`chart-pareto-${a}-${b}`, {
        type: 'scatter',
        data: {datasets: datasets},
        options: {
          plugins: {
            title: title(
                `${data.metrics[a]} (${data.directions[a]}) against ` +
                `${data.metrics[b]} (${data.directions[b]})`)
          },
          scales: {x: {title: title(data.metrics[a])}, y: {title: title(data.metrics[b])}}
        }
      });
    }
}

function facts(data) {
  const done = complete(data);
  const box = document.getElementById('quarry-facts');
  (data.facts || []).forEach((name, i) => {
    if (box && !document.getElementById('chart-fact-' + i)) {
      const div = document.createElement('div');
      div.className = 'slice';
      div.innerHTML = `<div class="chart" style="height:260px"><canvas id="chart-fact-${i}">` +
          '</canvas></div>';
      box.appendChild(div);
    }
    const have = done.filter(t => t.facts && t.facts[name] !== undefined);
    const xs = have.map(t => t.facts[name]);
    const [low, high] = extent(xs);
    const wide = xs.length > 0 && low > 0 && high > 100 * low;
    draw('chart-fact-' + i, {
      type: 'scatter',
      data: {
        datasets: [{
          label: name,
          data: have.map(t => ({x: t.facts[name], y: t.values[0]})),
          backgroundColor: COLORS[i % COLORS.length]
        }]
      },
      options: {
        plugins: {legend: {display: false}, title: title(`${data.metrics[0]} against ${name}`)},
        scales: {
          x: {type: wide ? 'logarithmic' : 'linear', title: title(name)},
          y: {title: title(data.metrics[0])}
        }
      }
    });
  });
}

function escape(text) {
  return String(text).replace(
      /[&<>"']/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;'})[c]);
}

let sortColumn = 0, sortDescending = false;

function table(data) {
  const element = document.getElementById('quarry-trials');
  if (!element) return;
  const names = data.params.map(p => p.name);
  const header = ['number', 'state'].concat(data.metrics, names, ['budget', 'seconds', 'worker']);
  const rows = data.trials.map(
      t => [t.number, t.state]
               .concat(data.metrics.map((_, k) => t.values[k] === undefined ? null : t.values[k]))
               .concat(names.map(n => t.params[n] === undefined ? null : t.params[n]))
               .concat(
                   [t.budget || null, t.start && t.end ? t.end - t.start : null, t.worker || '']));
  const key = v => (v === null || v === undefined) ? null : v;
  rows.sort((a, b) => {
    const x = key(a[sortColumn]), y = key(b[sortColumn]);
    if (x === y) return a[0] - b[0];
    if (x === null) return 1;
    if (y === null) return -1;
    const order = (typeof x === 'number' && typeof y === 'number') ? x - y :
        String(x) < String(y)                                      ? -1 :
                                                                     1;
    return sortDescending ? -order : order;
  });
  const cell = v => v === null ? '<td></td>' :
      typeof v === 'number'    ? `<td class="num">${escape(label(v))}</td>` :
                                 `<td>${escape(v)}</td>`;
  const arrow = i => i === sortColumn ? (sortDescending ? ' \u25be' : ' \u25b4') : '';
  element.innerHTML = '<thead><tr>' +
      header.map((h, i) => `<th data-column="${i}">${escape(h)}${arrow(i)}</th>`).join('') +
      '</tr></thead><tbody>' + rows.map(r => '<tr>' + r.map(cell).join('') + '</tr>').join('') +
      '</tbody>';
  element.querySelectorAll('th').forEach(th => th.addEventListener('click', () => {
    const column = Number(th.dataset.column);
    sortDescending = column === sortColumn ? !sortDescending : false;
    sortColumn = column;
    table(data);
  }));
}

// The live page's summary: trials by state, the best trial (or the Pareto front's size).
function summary(data) {
  const element = document.getElementById('quarry-summary');
  if (!element) return;
  const counts = {};
  for (const t of data.trials) counts[t.state] = (counts[t.state] || 0) + 1;
  const workers = new Set(data.trials.filter(t => t.worker).map(t => t.worker)).size;
  const facts = [['trials', data.trials.length]].concat(
      ['complete', 'pruned', 'failed', 'running', 'waiting'].map(s => [s, counts[s] || 0]),
      [['workers', workers]]);
  let html = '<dl class="facts">' +
      facts.map(([k, v]) => `<div><dt>${escape(k)}</dt><dd>${escape(v)}</dd></div>`).join('') +
      '</dl>';
  if (data.directions.length > 1) {
    html += `<p>Pareto front: ${(data.front || []).length} trials (see below).</p>`;
  } else {
    let best = null;
    for (const t of complete(data))
      if (t.feasible !== false &&
          (best === null || better(data.directions[0], t.values[0], best.values[0])))
        best = t;
    if (best) {
      const rows = [['trial', best.number], [data.metrics[0], best.values[0]]].concat(
          Object.entries(best.params));
      html += '<table><thead><tr><th>best</th><th></th></tr></thead><tbody>' +
          rows.map(([k, v]) => `<tr><td>${escape(k)}</td><td>${escape(label(v))}</td></tr>`)
              .join('') +
          '</tbody></table>';
    } else {
      html += '<p class="note">No trial has completed with a feasible value yet.</p>';
    }
  }
  element.innerHTML = html;
}

// A section whose charts have nothing to draw is hidden, with its link in the contents.
function hideEmpty() {
  document.querySelectorAll('section').forEach(section => {
    const box = section.querySelector('[data-charts]');
    if (!box) return;
    const drawn = [...box.querySelectorAll('canvas')].some(c => charts[c.id]);
    section.hidden = !drawn;
    const link = document.querySelector(`nav a[href="#${section.id}"]`);
    if (link) link.parentElement.hidden = !drawn;
  });
}

window.quarryDrawStudy = function(data) {
  for (let k = 0; k < Math.max(1, data.directions.length); ++k) history(data, k);
  importance(data);
  contour(data);
  parallel(data);
  slices(data);
  curves(data);
  budgets(data);
  timeline(data);
  pareto(data);
  facts(data);
  table(data);
  summary(data);
  hideEmpty();
  document.body.dataset.quarryCharts = String(Object.keys(charts).length);
};

// The dashboard: the study's summary (importance, contour, Pareto front...) from `api` every
// few seconds, and every second the trials after the last settled one (those before it have
// finished and no longer change); redrawn when anything changed.
window.quarryLiveStudy = function(api) {
  const trials = new Map();
  let meta = null, metaAt = 0, settled = -1, drawn = '';
  const status = document.getElementById('quarry-status');
  async function json(url) {
    const response = await fetch(url, {cache: 'no-store'});
    if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    return response.json();
  }
  async function tick() {
    try {
      let changed = false;
      const fresh = await json(`${api}/trials?after=${settled}`);
      for (const t of fresh.trials) {
        const text = JSON.stringify(t);
        if (!trials.has(t.number) || JSON.stringify(trials.get(t.number)) !== text) {
          trials.set(t.number, t);
          changed = true;
        }
      }
      settled = fresh.settled;
      if (!meta || (changed && Date.now() - metaAt > 5000) || Date.now() - metaAt > 30000) {
        meta = await json(api);
        metaAt = Date.now();
        changed = true;
      }
      const key = trials.size + ':' + settled;
      if (changed || drawn !== key) {
        const data = Object.assign(
            {}, meta, {trials: [...trials.values()].sort((a, b) => a.number - b.number)});
        window.quarryDrawStudy(data);
        drawn = key;
      }
      document.body.dataset.quarryTrials = String(trials.size);
      if (status)
        status.textContent = `${trials.size} trials, updated ` + new Date().toLocaleTimeString();
    } catch (error) {
      if (status) status.textContent = `Cannot reach the dashboard (${error.message}); retrying.`;
    }
    setTimeout(tick, 1000);
  }
  tick();
};
})();
