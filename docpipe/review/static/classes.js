// The class of one sorted document (docpipe/review/classes.py): accept it (a) or choose another and
// save; JSON to /api/~classes/correct with the page's CSRF token (docpipe/review/guard.py).
(function () {
  const body = document.body;
  const said = document.getElementById('said');
  async function send(payload) {
    const answer = await fetch(body.dataset.api + '/correct', {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-Docpipe-Csrf': body.dataset.csrf},
      body: JSON.stringify(Object.assign({doc_id: body.dataset.doc}, payload))});
    let data = {};
    try { data = await answer.json(); } catch (e) { data = {error: await answer.text()}; }
    if (!answer.ok) { said.textContent = 'not saved: ' + (data.error || 'error'); return; }
    said.textContent = 'saved';
    if (body.dataset.next) location.href = body.dataset.next; else location.reload();
  }
  const choice = document.getElementById('class');
  document.getElementById('save-class').addEventListener('click', () => send({action: 'set', new_value: choice.value}));
  document.getElementById('accept-class').addEventListener('click', () => send({action: 'accept'}));
  document.addEventListener('keydown', e => {
    if (e.target === choice || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'a') send({action: 'accept'});
    if (e.key === 'n' && body.dataset.next) location.href = body.dataset.next;
  });
})();
