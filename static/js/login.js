// The login form after a 429: the wait it announces counts down to zero, then says so.
'use strict';

// As security/login_page.py words a wait: seconds under two minutes, whole minutes above.
const SECONDS_SHOWN_UNDER = 120;

function waitText(seconds) {
  return seconds < SECONDS_SHOWN_UNDER ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

const wait = document.getElementById('retry-wait');
if (wait) {
  const until = Date.now() + Number(wait.dataset.seconds) * 1000;
  const timer = setInterval(() => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left > 0) {
      wait.textContent = waitText(left);
      return;
    }
    clearInterval(timer);
    const alert = document.getElementById('login-error');
    alert.textContent = 'Ya puede volver a intentarlo.';
    alert.className = 'alert alert-info';
  }, 1000);
}
