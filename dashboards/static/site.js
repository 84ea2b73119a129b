/* Brede Welvaart Monitor: the site's one script. No network: figures are JSON embedded in each page,
   plotly.js is the local assets/plotly.min.js, and the search index is assets/zoekindex.js.
   - charts: drawn when they come into view (a buurt page has ~33), with the shared layout below;
   - the gemeente map: recoloured (and the ranking table rebuilt) when another indicator is chosen;
   - sortable tables: a button in every column header, aria-sort says the order;
   - search on the index page.
   Text from data is only ever inserted with textContent, never as HTML. */
(function () {
  "use strict";

  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  var LAYOUT = {
    font: { family: FONT, size: 13, color: "#1a1a1a" },
    separators: ",.",  // Dutch: decimal comma, thousands point
    margin: { l: 70, r: 20, t: 30, b: 50 },
    paper_bgcolor: "#ffffff", plot_bgcolor: "#ffffff",
    hovermode: "x unified",
    hoverlabel: { font: { family: FONT } },
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    xaxis: { gridcolor: "#e6e6e6", linecolor: "#4d4d4d", tickformat: "d", fixedrange: true },
    yaxis: { gridcolor: "#e6e6e6", linecolor: "#4d4d4d", zeroline: false, separatethousands: true,
             fixedrange: true, automargin: true }
  };
  var MAP_LAYOUT = { hovermode: "closest", margin: { l: 10, r: 10, t: 10, b: 30 },
                     xaxis: { fixedrange: false }, yaxis: { fixedrange: false } };
  var CONFIG = { displayModeBar: false, responsive: true, scrollZoom: false, doubleClick: "reset" };
  var MISSING_COLOUR = "#D9D9D9";

  function isObject(v) { return v && typeof v === "object" && !Array.isArray(v); }
  function merge(base, over) {
    var out = {}, k;
    for (k in base) { out[k] = base[k]; }
    for (k in over) {
      if (over[k] === null || over[k] === undefined) { continue; }
      out[k] = isObject(base[k]) && isObject(over[k]) ? merge(base[k], over[k]) : over[k];
    }
    return out;
  }
  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  /* --- charts ----------------------------------------------------------------------------------- */
  function layoutFor(div, figureLayout) {
    var base = merge(LAYOUT, div.getAttribute("data-kind") === "map" ? MAP_LAYOUT : {});
    return merge(base, figureLayout || {});
  }
  function render(div) {
    if (div.getAttribute("data-state")) { return div._bwmDone || Promise.resolve(); }
    if (typeof Plotly === "undefined") { return Promise.resolve(); }
    div.setAttribute("data-state", "drawing");
    var p;
    if (div.hasAttribute("data-map-spec")) {
      p = drawMap(div);
    } else {
      var fig = readJson(div.getAttribute("data-figure"));
      p = Plotly.newPlot(div, fig.data, layoutFor(div, fig.layout), CONFIG);
    }
    div._bwmDone = Promise.resolve(p).then(function () { div.setAttribute("data-state", "drawn"); });
    return div._bwmDone;
  }
  function plots() { return Array.prototype.slice.call(document.querySelectorAll(".plot")); }
  function renderAll() { return Promise.all(plots().map(render)); }

  function startCharts() {
    var all = plots();
    if (!all.length) { return; }
    if (!("IntersectionObserver" in window)) { renderAll(); return; }
    var io = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { io.unobserve(e.target); render(e.target); }
      });
    }, { rootMargin: "400px 0px" });
    all.forEach(function (d) { io.observe(d); });
  }

  /* --- the gemeente map ------------------------------------------------------------------------ */
  function mapState(div) {
    if (!div._bwmSpec) { div._bwmSpec = readJson(div.getAttribute("data-map-spec")); }
    return div._bwmSpec;
  }
  function drawMap(div) {
    var select = document.querySelector('select[data-map="' + div.id + '"]');
    return showIndicator(div, select ? select.value : null);
  }
  function showIndicator(div, id) {
    var spec = mapState(div);
    var ind = spec.indicators[id];
    if (!ind) { return Promise.resolve(); }
    var fig = spec.figures[String(ind.year)];
    var empty = document.getElementById("kaart-leeg");
    var title = document.getElementById("kaart-titel");
    if (title) { title.textContent = "Kaart: " + ind.name + ", " + ind.year; }
    var legend = document.getElementById("kaart-kleur");
    if (legend && ind.legend) { legend.textContent = ind.legend; }
    updateRanking(spec, ind);
    if (!fig) {
      if (empty) { empty.hidden = false; }
      div.hidden = true;
      return Promise.resolve();
    }
    if (empty) { empty.hidden = true; }
    div.hidden = false;
    var ready = div.getAttribute("data-year") === String(ind.year) ? Promise.resolve()
      : Plotly.react(div, fig.data, layoutFor(div, fig.layout), CONFIG);
    div.setAttribute("data-year", String(ind.year));
    return ready.then(function () { return recolour(div, spec, ind); });
  }
  function recolour(div, spec, ind) {
    var byCode = {}, colours = [], texts = [], idx = [], bar = -1;
    ind.rows.forEach(function (r) { byCode[r[0]] = r; });
    div.data.forEach(function (t, i) {
      if (t.meta === "colorbar") { bar = i; return; }
      if (t.meta === "missing" || !t.meta) { return; }
      var r = byCode[t.meta];
      var area = spec.areas[t.meta];
      colours.push(r ? r[4] : MISSING_COLOUR);
      texts.push(escapeForPlotly((area ? area[0] : t.meta) + ": " + (r ? r[2] : "geen gegevens")));
      idx.push(i);
    });
    var jobs = [Plotly.restyle(div, { fillcolor: colours, text: texts }, idx)];
    if (bar >= 0) {
      jobs.push(Plotly.restyle(div, {
        "marker.cmin": [ind.lo === null ? 0 : ind.lo], "marker.cmax": [ind.hi === null ? 1 : ind.hi],
        "marker.showscale": [ind.lo !== null], "marker.colorbar.title.text": [escapeForPlotly(ind.unit)],
        "marker.reversescale": [!!ind.reverse]
      }, [bar]));
    }
    return Promise.all(jobs);
  }
  /* plotly.js reads a few HTML tags in strings; escape so names are shown as text. */
  function escapeForPlotly(s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function pagePath(kind, code) { return kind + "/" + code + ".html"; }
  function rootPrefix() {
    var r = document.body.getAttribute("data-root");
    return r === null ? "../" : r;
  }

  function cell(tag, text, cls, href) {
    var c = document.createElement(tag);
    if (cls) { c.className = cls; }
    if (href) {
      var a = document.createElement("a");
      a.href = href; a.textContent = text; c.appendChild(a);
    } else {
      c.textContent = text;
    }
    return c;
  }
  function updateRanking(spec, ind) {
    var table = document.getElementById("rangorde");
    if (!table) { return; }
    var caption = document.getElementById("rangorde-c");
    if (caption && caption.firstChild) {
      caption.firstChild.nodeValue = "Buurten op " + ind.name.charAt(0).toLowerCase() + ind.name.slice(1) + ", " +
        ind.year + " (rang 1 = " + ind.best + ") ";
    }
    var heads = table.querySelectorAll("thead th");
    var valueHead = heads[4].querySelector("button") || heads[4];
    valueHead.textContent = "Waarde (" + ind.unit + ")";
    var changeHead = heads[5].querySelector("button") || heads[5];
    changeHead.textContent = ind.change;
    var note = document.getElementById("rangorde-noot");
    if (note && ind.note) { note.textContent = ind.note; }
    var shared = {};
    ind.rows.forEach(function (r) { if (r[3] !== null) { shared[r[3]] = (shared[r[3]] || 0) + 1; } });
    Array.prototype.forEach.call(heads, function (th) { th.removeAttribute("aria-sort"); });
    var body = table.tBodies[0];
    var fresh = document.createElement("tbody");
    var prefix = rootPrefix();
    ind.rows.forEach(function (r) {
      var a = spec.areas[r[0]] || [r[0], "", null, "", null];
      var tr = document.createElement("tr");
      /* the same cells as bwm.site.maps.ranking_table: a shared rank, the marker of a small buurt */
      var small = ind.rounded && r[1] !== null && a[4] !== null && a[4] < ind.small;
      tr.appendChild(cell("td", r[3] === null ? "–" : String(r[3]) + (shared[r[3]] > 1 ? " (gedeeld)" : ""), "n"));
      tr.appendChild(cell("td", a[0], null, prefix + pagePath("buurt", r[0])));
      tr.appendChild(cell("td", a[1], null, a[2] ? prefix + pagePath("wijk", a[2]) : null));
      tr.appendChild(cell("td", a[3], "n"));
      tr.appendChild(cell("td", r[2] + (small ? " *" : ""), "n"));
      tr.appendChild(cell("td", r[5] + (r[5] && r[6] ? " (sinds " + r[6] + ")" : ""), "n"));
      fresh.appendChild(tr);
    });
    table.replaceChild(fresh, body);
    applyRanking(table);
  }

  /* --- the ranking: the best and worst 10 first ("toon alle"), and a wijk filter --------------- */
  var COMPACT = 10;
  function rankingState(table) {
    if (!table._bwmRanking) { table._bwmRanking = { all: false, wijk: "" }; }
    return table._bwmRanking;
  }
  function wijkOf(tr) {
    var a = tr.cells[2] ? tr.cells[2].querySelector("a") : null;
    var m = a ? /(WK[0-9A-Za-z]+)\.html$/.exec(a.getAttribute("href")) : null;
    return m ? m[1] : "";
  }
  function applyRanking(table) {
    var state = rankingState(table);
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var inWijk = rows.filter(function (r) { return !state.wijk || wijkOf(r) === state.wijk; });
    var ranked = inWijk.filter(function (r) { return r.cells[0].textContent.trim() !== "–"; });
    var compact = !state.all && ranked.length > 2 * COMPACT;
    var visible = compact ? ranked.slice(0, COMPACT).concat(ranked.slice(ranked.length - COMPACT)) : inWijk;
    rows.forEach(function (r) { r.hidden = true; r.classList.remove("ranking-gap"); });
    visible.forEach(function (r) { r.hidden = false; });
    if (compact) { ranked[COMPACT - 1].classList.add("ranking-gap"); }
    var button = document.getElementById(table.id + "-alle");
    if (button) {
      button.hidden = ranked.length <= 2 * COMPACT;
      button.textContent = state.all ? "Toon alleen de bovenste en onderste " + COMPACT :
        "Toon alle " + inWijk.length + " buurten";
      button.setAttribute("aria-expanded", state.all ? "true" : "false");
    }
    var status = document.getElementById(table.id + "-status");
    if (status) {
      status.textContent = compact ? "De tabel toont de bovenste en onderste " + COMPACT + " van " + ranked.length +
        " buurten met een rang." : "De tabel toont " + inWijk.length + " buurten.";
    }
  }
  function startRanking() {
    var table = document.getElementById("rangorde");
    if (!table) { return; }
    var select = document.getElementById("rangorde-wijk");
    var button = document.getElementById("rangorde-alle");
    if (select) {
      select.addEventListener("change", function () { rankingState(table).wijk = select.value; applyRanking(table); });
    }
    if (button) {
      button.addEventListener("click", function () {
        var state = rankingState(table);
        state.all = !state.all;
        applyRanking(table);
      });
    }
    applyRanking(table);
  }
  function startMapControls() {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-map]"), function (select) {
      select.addEventListener("change", function () {
        var div = document.getElementById(select.getAttribute("data-map"));
        if (!div) { return; }
        if (div.getAttribute("data-state") === "drawn") {
          showIndicator(div, select.value);
        } else {
          var spec = mapState(div);
          if (spec.indicators[select.value]) { updateRanking(spec, spec.indicators[select.value]); }
          div.removeAttribute("data-state");
          render(div);
        }
        var status = document.getElementById("rangorde-status");
        if (status) { status.textContent = "Kaart en tabel tonen nu: " + select.options[select.selectedIndex].text; }
      });
    });
  }

  /* --- sortable tables ------------------------------------------------------------------------- */
  function sortKey(text) {
    var t = text.trim();
    var m = t.match(/^([-+−]?)\s*€?\s*(\d[\d.]*(?:,\d+)?)/);
    if (m) {
      var n = parseFloat(m[2].replace(/\./g, "").replace(",", "."));
      return { num: m[1] === "-" || m[1] === "−" ? -n : n };
    }
    return { text: t.toLocaleLowerCase("nl") };
  }
  function isMissing(k) { return k.num === undefined && (k.text === "geen gegevens" || k.text === "–" || k.text === ""); }
  function compare(a, b) {
    if (a.num !== undefined && b.num !== undefined) { return a.num - b.num; }
    if (a.num !== undefined) { return -1; }
    if (b.num !== undefined) { return 1; }
    return a.text.localeCompare(b.text, "nl");
  }
  function startSortable() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      var heads = table.querySelectorAll("thead th");
      Array.prototype.forEach.call(heads, function (th, col) {
        var button = th.querySelector("button");
        if (!button) { return; }
        button.addEventListener("click", function () {
          var ascending = th.getAttribute("aria-sort") !== "ascending";
          Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
          th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.rows).map(function (r) {
            return { row: r, key: sortKey(r.cells[col].textContent) };
          });
          rows.sort(function (x, y) {
            var xm = isMissing(x.key), ym = isMissing(y.key);
            if (xm !== ym) { return xm ? 1 : -1; }  // "geen gegevens" always last
            var c = compare(x.key, y.key);
            return ascending ? c : -c;
          });
          rows.forEach(function (r) { body.appendChild(r.row); });
          if (table._bwmRanking) { applyRanking(table); }
          var status = table.parentNode.parentNode.querySelector(".status");
          if (status) {
            status.textContent = "Gesorteerd op " + button.textContent.replace(/[⇅▲▼]/g, "").trim() + ", " +
              (ascending ? "oplopend" : "aflopend") + ".";
          }
        });
      });
    });
  }

  /* --- search (every page; the index of names is loaded when a reader starts to search) --------------------------------------------------------------------- */
  function fold(s) {
    return String(s).toLocaleLowerCase("nl").normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }
  var searchEntries = null;
  function loadSearchIndex(done) {
    if (searchEntries) { done(); return; }
    function ready() {
      searchEntries = (window.BWM_SEARCH || []).map(function (e) {
        return { e: e, key: fold(e[0] + " " + e[1]), also: fold(e[5] || "") };
      });
      done();
    }
    if (window.BWM_SEARCH) { ready(); return; }
    var existing = document.getElementById("zoekindex-script");
    if (existing) { existing.addEventListener("load", ready); return; }
    var script = document.createElement("script");  /* the index is loaded when a reader starts to search */
    script.id = "zoekindex-script";
    script.src = rootPrefix() + "assets/zoekindex.js";
    script.addEventListener("load", ready);
    document.head.appendChild(script);
  }
  function searchHits(q) {
    return searchEntries.filter(function (x) { return x.key.indexOf(q) >= 0 || x.also.indexOf(q) >= 0; });
  }
  function startSearch() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-search]"), function (input) {
      var list = document.getElementById(input.getAttribute("aria-controls"));
      var status = document.getElementById(input.getAttribute("aria-describedby"));
      if (!list || !status) { return; }
      var prefix = rootPrefix();
      function show() {
        var q = fold(input.value.trim());
        while (list.firstChild) { list.removeChild(list.firstChild); }
        if (q.length < 2) { status.textContent = ""; return []; }
        var hits = searchHits(q);
        hits.slice(0, 40).forEach(function (x) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = prefix + x.e[4];
          a.textContent = x.e[0];
          li.appendChild(a);
          var where = " (" + x.e[2] + (x.e[3] && x.e[2].indexOf("gemeente") !== 0 ? ", " + x.e[3] : "") + ", " + x.e[1] + ")";
          if (x.key.indexOf(q) < 0 && x.e[5]) { where += " – " + x.e[5]; }
          li.appendChild(document.createTextNode(where));
          list.appendChild(li);
        });
        status.textContent = hits.length === 0 ? "Niets gevonden." :
          hits.length + (hits.length === 1 ? " resultaat" : " resultaten") +
          (hits.length > 40 ? ", de eerste 40 staan hieronder." : ".") + " Enter opent het eerste.";
        return hits;
      }
      input.addEventListener("focus", function () { loadSearchIndex(function () {}); });
      input.addEventListener("input", function () { loadSearchIndex(show); });
      input.addEventListener("keydown", function (ev) {
        if (ev.key !== "Enter") { return; }
        ev.preventDefault();
        loadSearchIndex(function () {
          var hits = show();
          if (hits.length) { window.location.href = prefix + hits[0].e[4]; }
        });
      });
    });
  }

  window.BWM = { renderAll: renderAll, render: render };
  function start() {
    startSortable();
    startSearch();
    startRanking();
    startMapControls();
    startCharts();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
