/* localStorage as JSON. It can be unavailable (private modes, blocked storage): never throws. */

export const store = {
  get(key) {
    try {
      const raw = window.localStorage.getItem(key);
      return raw ? JSON.parse(raw) : null;
    } catch (_e) {
      return null;
    }
  },
  set(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (_e) {
      /* the session then lasts as long as the page */
    }
  },
  remove(key) {
    try {
      window.localStorage.removeItem(key);
    } catch (_e) {
      /* ignore */
    }
  },
};
