/*! Sluice browser tracker: sluice.track/page/identify/flush, Intempt's _intempt[id].track and
 * Churn360's churn360.UsageCollector, over one delivery engine that batches, keeps its queue in
 * localStorage, retries with jittered backoff and sends what is left on page hide.
 * Minified copy: cd /tmp && npx --yes terser@5 <repo>/apps/tracker/static/tracker/sluice.js
 *   -c -m --comments /^!/ -o <repo>/apps/tracker/static/tracker/sluice.min.js */
(function (w, d) {
  "use strict";
  if (w.sluice && w.sluice.loaded) return;
  var script = d.currentScript;
  var attrs = (script && script.dataset) || {};
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin
    : location.origin;
  var TEXT = "text/plain;charset=UTF-8";
  var MAX_BATCH = 100;

  function iso() { return new Date().toISOString(); }
  function uuid() {
    if (w.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0;
      return (c === "x" ? r : (r & 3 | 8)).toString(16);
    });
  }
  function read(key, fallback) {
    try { var v = localStorage.getItem(key); return v === null ? fallback : JSON.parse(v); }
    catch (e) { return fallback; }
  }
  function write(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* full or off */ }
  }
  function visitorId() {
    var id = read("sluice.visitorId", null);
    if (!id) { id = uuid(); write("sluice.visitorId", id); }
    return id;
  }
  function stamp(item, userId) {
    item.eventId = uuid();
    item.visitorId = visitorId();
    item.timestamp = iso();
    if (userId) item.userId = userId;
    return item;
  }
  function assign(target, source) {
    for (var k in source || {}) if (Object.prototype.hasOwnProperty.call(source, k)) {
      target[k] = source[k];
    }
    return target;
  }

  /* Whether an answer is worth retrying: the server was busy, slow or failing. */
  function retried(status) { return status === 408 || status === 429 || status >= 500; }
  /* A refused request as an Error: its status and what Sluice said was wrong. */
  function refusal(r, answer) {
    var fields = (answer.errors || []).filter(function (e) { return e.attr; })
      .map(function (e) { return e.attr + ": " + e.detail; });
    var error = new Error(r.status + ": " + (fields.length ? fields.join("; ")
      : answer.detail || r.statusText));
    error.status = r.status;
    error.retryAfter = parseInt(r.headers.get("Retry-After"), 10) || 0;
    return error;
  }

  /* The delivery engine. `o`: key (storage), url, body(items) -> string or null when it
   * cannot send yet, flushAt, flushInterval, onUnauthorized() -> Promise (renew), log,
   * onRefused(refusal) -> true to keep the batch and stop sending (else it is dropped). */
  function Queue(o) {
    var q = this;
    q.o = o;
    q.sending = null;
    q.attempt = 0;
    q.wakeAt = 0;
    setInterval(function () { q.flush(); }, o.flushInterval || 2000);
    function hide() { q.beacon(); }
    w.addEventListener("pagehide", hide);
    d.addEventListener("visibilitychange", function () {
      if (d.visibilityState === "hidden") hide();
    });
    setTimeout(function () { q.flush(); }, 0);
  }
  Queue.prototype.items = function () { return read(this.o.key, []); };
  Queue.prototype.push = function (item) {
    var items = this.items();
    items.push(item);
    write(this.o.key, items);
    if (items.length >= (this.o.flushAt || 20)) this.flush();
  };
  Queue.prototype.forget = function (batch) {
    var sent = {};
    batch.forEach(function (item) { sent[item.eventId] = true; });
    write(this.o.key, this.items().filter(function (item) { return !sent[item.eventId]; }));
  };
  Queue.prototype.retryLater = function (retryAfter) {
    var q = this;
    q.attempt += 1;
    var backoff = Math.min(30000, 1000 * Math.pow(2, q.attempt - 1));
    var delay = retryAfter > 0 ? retryAfter * 1000 : backoff / 2 + Math.random() * backoff / 2;
    q.wakeAt = Date.now() + delay;
    setTimeout(function () { q.flush(); }, delay);
  };
  Queue.prototype.flush = function () {
    var q = this;
    if (q.sending) return q.sending;
    if (q.stopped) return Promise.resolve();
    if (Date.now() < q.wakeAt) return Promise.resolve();
    var batch = q.items().slice(0, MAX_BATCH);
    var body = batch.length ? q.o.body(batch) : null;
    if (body === null) return Promise.resolve();
    q.o.log("Flushing events queue " + batch.length);
    q.sending = fetch(q.o.url(), {
      method: "POST", headers: { "Content-Type": TEXT }, body: body, credentials: "omit"
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (answer) {
        return q.answered(batch, r, answer);
      });
    }, function () { q.retryLater(0); }).then(function (more) {
      q.sending = null;
      if (more) return q.flush();
    });
    return q.sending;
  };
  Queue.prototype.answered = function (batch, r, answer) {
    var q = this;
    if (r.ok) {
      q.attempt = 0;
      q.forget(batch);
      q.o.log("Successfully sent batch of event");
      return q.items().length > 0;
    }
    if (r.status === 401 && q.o.onUnauthorized) {
      return q.o.onUnauthorized().then(function () { return true; });
    }
    if (retried(r.status)) {
      q.retryLater(parseInt(r.headers.get("Retry-After"), 10) || 0);
      return false;
    }
    if (q.o.onRefused && q.o.onRefused(refusal(r, answer))) {
      q.stopped = true;
      return false;
    }
    console.warn("[Sluice] " + r.status + ": dropped " + batch.length + " record(s): " +
      (answer.detail || r.statusText));
    q.forget(batch);
    return false;
  };
  Queue.prototype.beacon = function () {
    // Delivery cannot be confirmed, so the records stay queued: the normal path sends them
    // again later, and Sluice stores each eventId once.
    if (this.stopped) return;
    var batch = this.items().slice(0, MAX_BATCH);
    var body = batch.length ? this.o.body(batch) : null;
    if (body === null) return;
    var blob = new Blob([body], { type: TEXT });
    if (!(navigator.sendBeacon && navigator.sendBeacon(this.o.url(), blob))) {
      fetch(this.o.url(), { method: "POST", body: body, keepalive: true, credentials: "omit",
        headers: { "Content-Type": TEXT } }).catch(function () {});
    }
  };

  /* The tracker: Sluice's own API and Intempt's. */
  function Tracker(config) {
    var t = this;
    t.c = config;
    t.userId = read("sluice.userId", null);
    var endpoint = (config.endpoint || scriptOrigin).replace(/\/+$/, "");
    t.queue = new Queue({
      key: "sluice.queue:" + endpoint + ":" + config.org,
      url: function () { return endpoint + "/v1/" + encodeURIComponent(config.org) + "/track"; },
      body: function (items) {
        return JSON.stringify({ writeKey: config.writeKey, trackerId: config.trackerId,
          sentAt: iso(), batch: items });
      },
      flushAt: config.flushAt, flushInterval: config.flushInterval,
      log: function (m) { console.log("[Intempt] " + m); }
    });
  }
  Tracker.prototype.track = function (collection, fields) {
    this.queue.push(stamp({ collection: collection, fields: assign({}, fields) }, this.userId));
    return this;
  };
  Tracker.prototype.page = function (fields) {
    return this.track("pages", assign({ url: location.href, title: d.title,
      referrer: d.referrer || null, path: location.pathname }, fields));
  };
  Tracker.prototype.identify = function (traits, userId) {
    if (userId) { this.userId = String(userId); write("sluice.userId", this.userId); }
    return this.track("users", assign({ userId: this.userId }, traits));
  };
  Tracker.prototype.flush = function () { return this.queue.flush(); };

  var tracker = null;
  var api = {
    loaded: true,
    load: function (config) {
      tracker = new Tracker(config);
      w._intempt = w._intempt || {};
      if (config.trackerId) w._intempt[config.trackerId] = tracker;
      return api;
    },
    track: function (c, f) { tracker.track(c, f); return api; },
    page: function (f) { tracker.page(f); return api; },
    identify: function (t, u) { tracker.identify(t, u); return api; },
    flush: function () { return tracker ? tracker.flush() : Promise.resolve(); },
    _queueLength: function () { return tracker ? tracker.queue.items().length : 0; }
  };
  var early = Array.isArray(w.sluice) ? w.sluice : [];
  w.sluice = api;
  if (attrs.org && attrs.writeKey) {
    api.load({ endpoint: attrs.endpoint, org: attrs.org, writeKey: attrs.writeKey,
      trackerId: attrs.trackerId });
  }
  early.forEach(function (call) { api[call[0]].apply(api, call.slice(1)); });

  /* Churn360's usage collector: a session from /api/initialize (or from the page's own
   * sessionFactory), then page/track/identify. A session started with the key alone is an
   * anonymous visitor's until identify names the user. */
  var SESSION_SECONDS = 1200;
  function UsageCollector() {
    var c = this;
    c.endpoint = (attrs.endpoint || scriptOrigin).replace(/\/+$/, "");
    c.token = null;
    c.userId = null;
    c.accountId = null;
    c.attempt = 0;
    c.queue = new Queue({
      key: "sluice.collector:" + c.endpoint,
      url: function () { return c.endpoint + "/api/collect"; },
      body: function (items) {
        return c.token ? JSON.stringify({ sessionToken: c.token, sentAt: iso(), batch: items })
          : null;
      },
      onUnauthorized: function () { c.token = null; return c.renew(); },
      onRefused: function (error) { c.giveUp("collect", error); return true; },
      log: function (m) { console.log("[Churn360] " + m); }
    });
  }
  UsageCollector.prototype.initialize = function (apiKey, customerIdentifier, email) {
    var c = this;
    var body = {};
    if (customerIdentifier != null) body.customerIdentifier = String(customerIdentifier);
    if (email != null) body.userEmail = String(email);
    c.anonymous = email == null;
    try { localStorage.setItem("Churn360V-TagApikey", apiKey); } catch (e) { /* off */ }
    c.source = { name: "initialize", next: function () {
      return fetch(c.endpoint + "/api/initialize", {
        method: "POST", credentials: "omit", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json", "x-api-key": apiKey }
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (answer) {
          if (!r.ok) throw refusal(r, answer);
          return answer;
        });
      });
    } };
    return c.renew();
  };
  /* The page's own server starts sessions (keeping the API key off the page): `callback`
   * gets the current session key and returns a Promise of the next one, called before the
   * 20 minutes of each session run out and whenever Sluice says a session has expired. */
  UsageCollector.prototype.sessionFactory = function (sessionKey, callback) {
    var c = this;
    if (typeof sessionKey !== "string" || typeof callback !== "function") {
      throw new TypeError("[Churn360] call sessionFactory(sessionKey, callback) with the " +
        "session key your server got from POST /api/initialize and a function that " +
        "returns a Promise of a new one");
    }
    c.source = { name: "sessionFactory callback", next: function () {
      return Promise.resolve(callback(c.token)).then(function (next) {
        var token = next && next.sessionToken || next;
        if (typeof token !== "string") throw new Error("gave no session key");
        return { sessionToken: token, expiresIn: next.expiresIn };
      });
    } };
    c.started({ sessionToken: sessionKey, expiresIn: SESSION_SECONDS });
    return Promise.resolve();
  };
  UsageCollector.prototype.renew = function () {
    var c = this;
    if (!c.source || c.gaveUp) return Promise.resolve();
    if (c.renewing) return c.renewing;
    c.renewing = c.source.next().then(function (session) {
      c.renewing = null;
      c.started(session);
    }, function (error) {
      c.renewing = null;
      if (error.status && !retried(error.status)) return c.giveUp(c.source.name, error);
      c.retryRenewal(error);
    });
    return c.renewing;
  };
  UsageCollector.prototype.started = function (session) {
    var c = this;
    c.token = session.sessionToken;
    c.attempt = 0;
    clearTimeout(c.renewTimer);
    // renewed at four fifths of its life, so that sends in flight still carry a live token
    c.renewTimer = setTimeout(function () { c.renew(); },
      (session.expiresIn || SESSION_SECONDS) * 800);
    c.queue.flush();
  };
  UsageCollector.prototype.retryRenewal = function (error) {
    var c = this;
    c.attempt += 1;
    var backoff = Math.min(60000, 1000 * Math.pow(2, c.attempt - 1));
    var delay = error.retryAfter > 0 ? error.retryAfter * 1000
      : backoff / 2 + Math.random() * backoff / 2;
    console.warn("[Churn360] " + c.source.name + " failed (" + error.message + "); retrying in " +
      Math.round(delay / 1000) + " s");
    clearTimeout(c.renewTimer);
    c.renewTimer = setTimeout(function () { c.renew(); }, delay);
  };
  /* A request Sluice refuses will be refused again: stop, say what to fix, and keep the
   * queue in localStorage for the fixed page to send. */
  UsageCollector.prototype.giveUp = function (call, error) {
    this.gaveUp = true;
    this.token = null;
    clearTimeout(this.renewTimer);
    console.error("[Churn360] " + call + " answered " + error.message.replace(/\.$/, "") +
      "; not retrying. Queued calls stay in localStorage until a page with the fix loads.");
  };
  UsageCollector.prototype.listener = function () {
    var c = this;
    ["pushState", "replaceState"].forEach(function (name) {
      var original = history[name];
      history[name] = function () {
        var result = original.apply(this, arguments);
        c.page();
        return result;
      };
    });
    w.addEventListener("popstate", function () { c.page(); });
    c.page();
  };
  UsageCollector.prototype.call = function (item) {
    if (this.accountId) item.accountId = this.accountId;
    this.queue.push(stamp(item, this.userId));
  };
  UsageCollector.prototype.page = function (additionalFields) {
    this.call({ type: "page", url: location.href, title: d.title, referrer: d.referrer || null,
      path: location.pathname, properties: assign({}, additionalFields) });
  };
  UsageCollector.prototype.track = function (event, feature, additionalFields) {
    this.call({ type: "track", event: event, feature: feature == null ? null : feature,
      properties: assign({}, additionalFields) });
  };
  /* In an anonymous session, identify names the user (its userId, else the traits' email)
   * and the customer (traits.customerIdentifier) of this and every later call. */
  UsageCollector.prototype.identify = function (traits, userId) {
    traits = assign({}, traits);
    var user = userId || (this.anonymous && traits.email);
    if (user) this.userId = String(user);
    if (traits.customerIdentifier) this.accountId = String(traits.customerIdentifier);
    this.call({ type: "identify", userId: this.userId, traits: traits });
  };
  w.churn360 = { UsageCollector: UsageCollector };
})(window, document);
