/*
 * 邑问 Yiwen — embeddable chat widget for the Jiangmen market-regulation bureau.
 *
 * Embedding: one <script src=".../widget/yiwen-widget.js"> tag, configured by
 * window.YiwenConfig = {rasaUrl, title, ...} and/or data-* attributes on the tag.
 * What belongs to the server (the ticket-reference pattern, core/ticket_ref.py) comes
 * from it: the demo page puts it in YiwenConfig, other pages get config.json next to
 * this script. The format is never copied here.
 *
 * This file is the loader: it loads the widget's modules from yiwen/ beside it, in
 * order, as plain scripts (no build step, no ES modules, so no CORS setup is needed
 * when the bureau's pages embed the widget from another origin):
 *   yiwen/state.js      configuration, UI strings, stored session, message shape
 *   yiwen/transport.js  socket.io client and Rasa's REST webhook
 *   yiwen/render.js     text, and the cards of structured replies (core/replies.py)
 *   yiwen/widget.js     the panel, the log, connection handling, the public API
 * They share window.YiwenWidget._modules; the page uses YiwenWidget.open(), close(),
 * send(text) and reset().
 *
 * Why it is written this way:
 * - No build step and no third-party code.
 * - Every piece of bot or user text reaches the page through textContent or
 *   createTextNode. Nothing from the network is ever parsed as HTML.
 * - Replies are drawn from their structured payloads, never parsed from their text.
 * - The UI lives in a shadow root, so the host page's CSS cannot break it.
 */
(function () {
  "use strict";

  if (window.YiwenWidget) {
    return; // embedded twice: keep the first instance
  }
  var script = document.currentScript;
  window.YiwenWidget = { _script: script, _modules: {} };

  var src = script && script.src ? script.src : "";
  var base = src.replace(/[^\/?#]*(?:[?#].*)?$/, "");
  var query = (src.match(/\?[^#]*/) || [""])[0]; // a cache-busting ?v=… applies to all
  var parent = document.head || document.documentElement;
  ["state", "transport", "render", "widget"].forEach(function (name) {
    var tag = document.createElement("script");
    tag.src = base + "yiwen/" + name + ".js" + query;
    tag.async = false; // run in this order
    parent.appendChild(tag);
  });
})();
