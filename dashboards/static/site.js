/* Brede Welvaart Monitor: the site's one script. No network: figures are JSON embedded in each page,
   plotly.js is the local assets/plotly.min.js, and the search index is assets/zoekindex.js.
   - charts: drawn when they come into view (a buurt page has ~33), with the shared layout below;
   - the gemeente map: recoloured (and the ranking table rebuilt) when another indicator is chosen;
   - sortable tables: a button in every column header, aria-sort says the order;
   - search on the index page;
   - beside every chart: its figures as a CSV for Dutch Excel (built here from the chart's table, so it works
     from file://) and a link to the chart's own id;
   - printing: every chart drawn at the paper's width (a wijk or buurt page as a factsheet of small charts),
     every "Tabel" opened; on Ctrl+P (beforeprint) and on print emulation (matchMedia), as page.pdf() needs.
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
    // automargin: on a phone the year labels turn vertical, and the axis title must move below them
    xaxis: { gridcolor: "#e6e6e6", linecolor: "#4d4d4d", tickformat: "d", fixedrange: true, automargin: true },
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
    var layout = merge(base, figureLayout || {});
    return printing ? merge(layout, printLayout(div, layout)) : layout;
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

  /* --- the figures of a chart as CSV, and a link to it ----------------------------------------- */
  var NUMBER = /^([-+−]?)\s*(?:€\s*)?(\d{1,3}(?:\.\d{3})+|\d+)(,\d+)?\s*(?:%|‰)?$/;
  /* A cell as Dutch Excel reads it: a number without thousands points and with its decimal comma (the unit is in
     the caption), any other text quoted when it holds the separator, a quote or a line break. */
  function csvCell(text) {
    var t = String(text).replace(/\s+/g, " ").trim();
    var m = t.match(NUMBER);
    if (m) { return (m[1] ? "-" : "") + m[2].replace(/\./g, "") + (m[3] || ""); }
    return /[;"\n]/.test(t) ? '"' + t.replace(/"/g, '""') + '"' : t;
  }
  /* A number with a remark behind it ("4,1% *" a small buurt, "1 (gedeeld)" a shared rank, "-0,7 (sinds 2020)"):
     the number stays a number for Excel and the remark moves to a last column, "Opmerking". */
  var REMARK = /^(.*\d[%‰]?)\s+(\*|\([^()]*\))$/;
  function tableCsv(table, source) {
    var heads = [], remarks = [], any = false;
    var rows = Array.prototype.map.call(table.rows, function (tr, i) {
      var notes = [];
      var cells = Array.prototype.map.call(tr.cells, function (c, j) {
        var b = c.querySelector("button");  // a sortable header: its label without the sort arrow
        var t = String(b ? b.textContent : c.textContent).replace(/\s+/g, " ").trim();
        if (i === 0) { heads[j] = t; }
        var m = i > 0 ? t.match(REMARK) : null;
        if (m && NUMBER.test(m[1])) {
          notes.push((heads[j] || "") + ": " + (m[2] === "*" ? "kleine buurt, afgerond cijfer" : m[2].slice(1, -1)));
          t = m[1];
        }
        return csvCell(t);
      });
      if (notes.length) { any = true; }
      remarks.push(notes.join(", "));
      return cells;
    });
    var lines = rows.map(function (cells, i) {
      if (any) { cells.push(csvCell(i === 0 ? "Opmerking" : remarks[i])); }
      return cells.join(";");
    });
    var caption = table.caption ? table.caption.cloneNode(true) : null;
    if (caption) {
      Array.prototype.forEach.call(caption.querySelectorAll(".hint"), function (h) { h.remove(); });
      lines.push("", csvCell(caption.textContent));
    }
    if (source) { lines.push(csvCell(source)); }
    return "\ufeff" + lines.join("\r\n") + "\r\n";  // the BOM: Excel then reads UTF-8 (ë, €, –)
  }
  function pageName() {
    var file = decodeURIComponent(location.pathname.split("/").pop() || "pagina");
    return file.replace(/\.html?$/, "");
  }
  function chartTable(fig) {
    var t = fig.querySelector("details table");
    var next = fig.nextElementSibling;  // a map: its ranking table follows it
    return t || (next && next.querySelector ? next.querySelector("table") : null);
  }
  function startChartTools() {
    Array.prototype.forEach.call(document.querySelectorAll("figure.chart[id]"), function (fig) {
      if (!chartTable(fig) || fig.querySelector(".chart-tools")) { return; }
      var title = fig.querySelector(".chart-title");
      var p = document.createElement("p");
      p.className = "chart-tools";
      var csv = document.createElement("a");
      csv.className = "csv";
      csv.href = "#" + fig.id;
      csv.download = pageName() + "-" + fig.id + ".csv";
      csv.textContent = "Download de cijfers (CSV)";
      var link = document.createElement("a");
      link.className = "deeplink";
      link.href = "#" + fig.id;
      link.textContent = "Link naar deze grafiek";
      if (title && title.id) {
        csv.setAttribute("aria-describedby", title.id);
        link.setAttribute("aria-describedby", title.id);
      }
      csv.addEventListener("click", function () {
        // built when clicked, from the table as it is now (the map's ranking follows the chosen indicator)
        var source = fig.querySelector("figcaption");
        var blob = new Blob([tableCsv(chartTable(fig), source ? source.textContent.replace(/ De cijfers staan in de tabel\.$/, "") : "")],
                            { type: "text/csv;charset=utf-8" });
        if (csv._bwmUrl) { URL.revokeObjectURL(csv._bwmUrl); }
        csv._bwmUrl = URL.createObjectURL(blob);
        csv.href = csv._bwmUrl;
      });
      p.appendChild(csv);
      p.appendChild(document.createTextNode(" · "));
      p.appendChild(link);
      var caption = fig.querySelector("figcaption");
      fig.insertBefore(p, caption ? caption.nextSibling : null);
    });
  }

  /* --- printing --------------------------------------------------------------------------------- */
  /* Widths in CSS pixels at 96 dpi, as site.css sets them for print: A4 less 15 mm margins is 180 mm = 680 px; a
     wijk or buurt page prints its charts five to a row (site.css: .factsheet .theme .plot). */
  var PRINT_WIDTH = 680, MINI = { width: 124, height: 72 };
  var printing = false, printed = null;
  function isFactsheet() { return document.body.classList.contains("factsheet"); }
  function printLayout(div, layout) {
    if (div.getAttribute("data-kind") === "map") { return { width: PRINT_WIDTH, height: 460 }; }
    if (isFactsheet() && div.closest(".theme")) {
      // a small chart: the first and last year on the axis, no legend (the factsheet's key says which line is
      // which), no axis titles (the unit is in the summary table above)
      var years = (layout.xaxis && layout.xaxis.tickvals) || [];
      return { width: MINI.width, height: MINI.height, showlegend: false, font: { size: 8 },
               margin: { l: 36, r: 6, t: 4, b: 4 },
               xaxis: { title: { text: "" }, tickangle: 0, tickvals: years.length > 2 ? [years[0], years[years.length - 1]] : years },
               yaxis: { title: { text: "" }, nticks: 4 }, annotations: [] };
    }
    return { width: PRINT_WIDTH, height: Math.min(div.offsetHeight || 320, 340) };
  }
  function redraw() {
    return Promise.all(plots().filter(function (d) { return d.getAttribute("data-state"); }).map(function (d) {
      d.removeAttribute("data-state"); d.removeAttribute("data-year");
      Plotly.purge(d);  // from scratch: Plotly.react would keep the width of the other medium
      return render(d);
    }).concat(printing ? plots().map(render) : []));
  }
  /* Draw every chart for paper and open every "Tabel"; returns a promise that resolves when all are drawn. */
  function preparePrint() {
    if (printing) { return printed; }
    printing = true;
    Array.prototype.forEach.call(document.querySelectorAll("details:not([open])"), function (d) {
      d.open = true; d.setAttribute("data-print-opened", "");
    });
    printed = redraw().then(function () { document.body.setAttribute("data-print", "ready"); });
    return printed;
  }
  function endPrint() {
    if (!printing) { return Promise.resolve(); }
    printing = false;
    document.body.removeAttribute("data-print");
    Array.prototype.forEach.call(document.querySelectorAll("details[data-print-opened]"), function (d) {
      d.open = false; d.removeAttribute("data-print-opened");
    });
    return redraw();
  }
  function startPrint() {
    window.addEventListener("beforeprint", preparePrint);
    var mq = window.matchMedia ? window.matchMedia("print") : null;
    // page.pdf() under print emulation fires afterprint while the media stays print: keep the print drawing then
    window.addEventListener("afterprint", function () { if (!(mq && mq.matches)) { endPrint(); } });
    if (mq) {
      var onChange = function (e) { if (e.matches) { preparePrint(); } else { endPrint(); } };
      if (mq.addEventListener) { mq.addEventListener("change", onChange); } else if (mq.addListener) { mq.addListener(onChange); }
      if (mq.matches) { preparePrint(); }
    }
  }

  window.BWM = { renderAll: renderAll, render: render, preparePrint: preparePrint, endPrint: endPrint };
  function start() {
    startSortable();
    startSearch();
    startRanking();
    startMapControls();
    startChartTools();
    startPrint();
    if (!printing) { startCharts(); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
