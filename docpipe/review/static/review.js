// The review page's keys and clicks (docpipe/review). Writes are JSON to /api/<schema>/..., with
// the page's CSRF token in a header (docpipe/review/guard.py).
(function () {
  const body = document.body;
  const DOC = body.dataset.doc;
  if (!DOC) return; // the queue and calibration pages need no script
  const API = body.dataset.api;
  const said = document.getElementById('said');
  const rows = Array.from(document.querySelectorAll('tr.value'));
  rows.sort((a, b) => confidenceOf(a) - confidenceOf(b));
  let at = 0;
  let timer = null;

  function confidenceOf(row) {
    const c = row.dataset.confidence;
    return c === '' ? -1 : parseFloat(c); // no confidence: first
  }
  function say(text) { said.textContent = text; }
  function target(row) {
    return {doc_id: DOC, field: row.dataset.field,
            list_index: row.dataset.index === '' ? null : parseInt(row.dataset.index, 10),
            item_field: row.dataset.item || null};
  }
  async function post(path, payload) {
    const answer = await fetch(API + path, {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-Docpipe-Csrf': body.dataset.csrf},
      body: JSON.stringify(payload)});
    let data = {};
    try { data = await answer.json(); } catch (e) { data = {error: await answer.text()}; }
    return {ok: answer.ok, data: data};
  }
  function boxesOf(row) { return document.querySelectorAll(`.box[data-key="${CSS.escape(row.dataset.key)}"]`); }
  function show(i, scrollBox) {
    rows.forEach(r => r.classList.remove('current'));
    document.querySelectorAll('.box.lit').forEach(b => b.classList.remove('lit'));
    if (!rows.length) return;
    at = Math.max(0, Math.min(rows.length - 1, i));
    const row = rows[at];
    row.classList.add('current');
    row.scrollIntoView({block: 'nearest'});
    const boxes = boxesOf(row);
    boxes.forEach(b => b.classList.add('lit'));
    if (scrollBox && boxes.length) boxes[0].scrollIntoView({block: 'center'});
  }
  async function act(row, payload, after) {
    const {ok, data} = await post('/correct', Object.assign(target(row), payload));
    if (ok) {
      row.classList.add('done');
      if (data.value !== undefined) row.querySelector('.shown').textContent = data.value;
      if (data.raw !== undefined) row.querySelector('td.raw').textContent = data.raw === null ? '' : data.raw;
      say(data.saved ? 'saved' : (data.why || 'nothing to save'));
      if (after) after();
    } else {
      say('not saved: ' + (data.error || 'error'));
    }
    return ok;
  }
  function editing() { return rows.find(r => r.classList.contains('editing')); }
  function startEdit(row) {
    row.classList.add('editing');
    const input = row.querySelector('.edit');
    input.focus();
    input.select();
    preview(row);
  }
  function stopEdit(row) {
    row.classList.remove('editing');
    row.querySelector('.edit').blur();
  }
  async function preview(row) {
    const input = row.querySelector('.edit');
    const box = row.querySelector('.preview');
    const {ok, data} = await post('/preview', Object.assign(target(row), {new_value: input.value}));
    box.classList.toggle('bad', !ok);
    box.textContent = ok ? `saved as ${data.value === '' ? '(no value)' : data.value}` +
      (data.note ? ` · ${data.note}` : '') : (data.error || 'not a value of this kind');
  }

  rows.forEach((row, i) => {
    row.addEventListener('click', e => { if (!row.classList.contains('editing')) show(i, true); });
    const input = row.querySelector('.edit');
    input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => preview(row), 150); });
  });
  document.querySelectorAll('.box').forEach(box => box.addEventListener('click', () => {
    const i = rows.findIndex(r => r.dataset.key === box.dataset.key);
    if (i >= 0) show(i, false);
  }));
  document.querySelectorAll('button.add').forEach(button => button.addEventListener('click', async () => {
    const row = button.closest('tr');
    const {ok, data} = await post('/correct', {doc_id: DOC, field: row.dataset.field, action: 'add_item'});
    if (ok) location.reload(); else say('not added: ' + (data.error || 'error'));
  }));
  document.querySelectorAll('button.remove').forEach(button => button.addEventListener('click', async () => {
    const row = button.closest('tr');
    const {ok, data} = await post('/correct', Object.assign(target(row), {action: 'remove_item'}));
    if (ok) location.reload(); else say('not removed: ' + (data.error || 'error'));
  }));
  async function done() {
    const {ok, data} = await post('/correct', {doc_id: DOC, action: 'done'});
    if (!ok) { say('not saved: ' + (data.error || 'error')); return; }
    say('done');
    if (body.dataset.next) location.href = body.dataset.next; else location.reload();
  }
  document.getElementById('done').addEventListener('click', done);

  document.addEventListener('keydown', e => {
    const row = editing();
    if (row) {
      if (e.key === 'Enter') {
        e.preventDefault();
        const value = row.querySelector('.edit').value;
        act(row, {action: 'set', new_value: value === '' ? null : value}, () => { stopEdit(row); show(at + 1); });
      }
      if (e.key === 'Escape') stopEdit(row);
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'j') show(at + 1, true);
    if (e.key === 'k') show(at - 1, true);
    if (e.key === 'a' && rows.length) act(rows[at], {action: 'accept'}, () => show(at + 1, true));
    if (e.key === 'e' && rows.length) { e.preventDefault(); startEdit(rows[at]); }
    if (e.key === 'n' && body.dataset.next) location.href = body.dataset.next;
    if (e.key === 'p' && body.dataset.prev) location.href = body.dataset.prev;
    if (e.key === 'd') done();
  });
  show(0, false);
})();
