// Evaluated inside a report page by test/report/browser.test.ts; its value is the PageCheck that the
// test declares. Plain DOM code: it sees nothing of the test's scope.
(() => {
  const name = (el) => `${el.tagName.toLowerCase()}${typeof el.className === 'string' && el.className ? `.${el.className}` : ''}`;
  const W = document.documentElement.clientWidth;
  const overflowing = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue; // inside a chart: checked against the chart
    const wrap = el.closest('.table-wrap');
    if (wrap && wrap !== el) continue; // a wide table scrolls inside its box: the box itself must fit
    const r = el.getBoundingClientRect();
    if (r.width > 0 && (r.right > W + 0.5 || r.left < -0.5)) overflowing.push(`${name(el)} [${r.left.toFixed(0)}, ${r.right.toFixed(0)}]`);
  }
  const within = (r, box) =>
    r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5;
  const charts = Array.from(document.querySelectorAll('svg.chart'), (svg) => {
    const box = svg.getBoundingClientRect();
    const entries = Array.from(svg.querySelectorAll('g.legend'));
    const label = (g) => g.querySelector('title')?.textContent ?? g.querySelector('text')?.textContent ?? '';
    const rects = entries.map((g) => g.getBoundingClientRect());
    const hidden = entries
      .filter((g, i) => {
        const r = rects[i];
        return r.width < 1 || r.height < 1 || !within(r, box) || getComputedStyle(g).visibility !== 'visible';
      })
      .map(label);
    const overlapping = [];
    rects.forEach((a, i) => {
      rects.slice(i + 1).forEach((b, j) => {
        const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (x > 0.5 && y > 0.5) overlapping.push(`${label(entries[i])} / ${label(entries[i + 1 + j])}`);
      });
    });
    const clipped = Array.from(svg.querySelectorAll('text'))
      .filter((t) => !within(t.getBoundingClientRect(), box))
      .map((t) => t.textContent ?? '');
    const vb = svg.viewBox.baseVal;
    return {
      title: svg.querySelector('title')?.textContent ?? '',
      legend: entries.map(label),
      hidden,
      overlapping,
      clipped,
      marks: svg.querySelectorAll('path.mark').length,
      width: box.width,
      height: box.height,
      aspectHeight: (box.width * vb.height) / vb.width,
    };
  });
  return { viewport: W, scrollWidth: document.documentElement.scrollWidth, overflowing, charts };
})();
