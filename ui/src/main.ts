import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';

// If the UI itself breaks before it draws anything, say so in the window instead of staying blank.
function showFatal(message: string) {
  const root = document.getElementById('app');
  if (root && root.childElementCount === 0) {
    const p = document.createElement('p');
    p.className = 'fatal';
    p.textContent = `Keyward could not start its window: ${message}`;
    root.append(p);
  }
}
window.addEventListener('error', (e) => showFatal(String(e.message ?? e)));
window.addEventListener('unhandledrejection', (e) => showFatal(String((e.reason && e.reason.message) ?? e.reason)));

let app;
try {
  app = mount(App, { target: document.getElementById('app')! });
} catch (e) {
  showFatal(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  throw e;
}
export default app;
