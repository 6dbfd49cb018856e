// Client-side search for the HTML book (pandoc + Typst fallback renderer, one page per chapter).
// Typing in the search box highlights matches on this page (<mark>), lists the sections that
// contain them, hides sections without matches, lists matching sections of the other chapters
// (assets/search-data.js) and filters the table of contents.
// Escape or an empty box restores the full page.
(function () {
  "use strict";
  var input = document.getElementById("search-input");
  var status = document.getElementById("search-status");
  var results = document.getElementById("search-results");
  var content = document.getElementById("content");
  if (!input || !content) return;
  var sections = Array.prototype.slice.call(content.querySelectorAll("section[id]"));
  var tocItems = Array.prototype.slice.call(document.querySelectorAll("#toc li"));
  var MAX_MARKS = 1000;
  var timer = null;

  function sectionTitle(sec) {
    var h = sec.querySelector(":scope > h1, :scope > h2, :scope > h3, :scope > h4, :scope > h5, :scope > h6");
    return h ? h.textContent.trim() : sec.id;
  }

  function clearMarks() {
    var marks = content.querySelectorAll("mark.search-hit");
    for (var i = 0; i < marks.length; i++) {
      var m = marks[i], parent = m.parentNode;
      parent.replaceChild(document.createTextNode(m.textContent), m);
      parent.normalize();
    }
  }

  function reset() {
    clearMarks();
    results.innerHTML = "";
    status.textContent = "";
    document.body.classList.remove("searching");
    sections.forEach(function (s) { s.classList.remove("search-miss"); });
    tocItems.forEach(function (li) { li.classList.remove("search-miss"); });
  }

  // Text nodes that belong to `sec` itself (not to a nested section).
  function ownTextNodes(sec, keepBlank) {
    var walker = document.createTreeWalker(sec, NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) {
        var el = n.parentElement;
        if (!el || el.closest("section") !== sec) return NodeFilter.FILTER_REJECT;
        if (el.closest("script, style")) return NodeFilter.FILTER_REJECT;
        return (keepBlank || n.nodeValue.trim()) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
      }
    });
    var nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    return nodes;
  }

  function markNode(node, needle, budget) {
    var text = node.nodeValue, lower = text.toLocaleLowerCase("nb"), count = 0;
    var positions = [], from = 0, at;
    while ((at = lower.indexOf(needle, from)) !== -1 && count < budget) {
      positions.push(at); from = at + needle.length; count++;
    }
    for (var i = positions.length - 1; i >= 0; i--) {
      var start = positions[i];
      var after = node.splitText(start);
      after.splitText(needle.length);
      var mark = document.createElement("mark");
      mark.className = "search-hit";
      mark.textContent = after.nodeValue;
      after.parentNode.replaceChild(mark, after);
    }
    return count;
  }

  function snippet(sec, needle) {
    var text = ownTextNodes(sec, true).map(function (n) { return n.nodeValue; }).join("").replace(/\s+/g, " ");
    var at = text.toLocaleLowerCase("nb").indexOf(needle);
    if (at < 0) return "";
    var s = Math.max(0, at - 40), e = Math.min(text.length, at + needle.length + 60);
    return (s > 0 ? "… " : "") + text.slice(s, e) + (e < text.length ? " …" : "");
  }

  function search(query) {
    reset();
    var needle = query.trim().toLocaleLowerCase("nb");
    if (needle.length < 2) return;
    document.body.classList.add("searching");
    var hits = {}, total = 0, budget = MAX_MARKS;
    sections.forEach(function (sec) {
      var snip = snippet(sec, needle);
      var count = 0;
      ownTextNodes(sec).forEach(function (n) {
        if (budget > 0) { var c = markNode(n, needle, budget); count += c; budget -= c; }
      });
      if (count > 0) {
        hits[sec.id] = true;
        total += count;
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = "#" + sec.id;
        a.textContent = sectionTitle(sec) + " (" + count + ")";
        li.appendChild(a);
        if (snip) {
          var p = document.createElement("span");
          p.className = "search-snippet";
          p.textContent = snip;
          li.appendChild(p);
        }
        results.appendChild(li);
      }
    });
    // Sections of the other chapter pages (search-data.js), linked to their page.
    var base = document.body.getAttribute("data-kg-base") || "";
    var here = document.body.getAttribute("data-kg-page") || "";
    var remote = {};
    (window.KG_SEARCH || []).forEach(function (e) {
      if (e.p === here) return;
      var at = e.x.toLocaleLowerCase("nb").indexOf(needle);
      if (at < 0) return;
      var url = new URL(base + e.p + "#" + e.id, window.location.href).href;
      remote[url] = true;
      remote[url.split("#")[0]] = true;  // the chapter page itself
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = base + e.p + "#" + e.id;
      a.textContent = e.t;
      li.appendChild(a);
      var p = document.createElement("span");
      p.className = "search-snippet";
      var s = Math.max(0, at - 40), end = Math.min(e.x.length, at + needle.length + 60);
      p.textContent = (s > 0 ? "… " : "") + e.x.slice(s, end) + (end < e.x.length ? " …" : "");
      li.appendChild(p);
      results.appendChild(li);
      total += 1;
    });
    // A section stays visible when it or one of its subsections has a match; so does its
    // entry in the table of contents.
    var keep = {};
    sections.forEach(function (sec) {
      keep[sec.id] = !!hits[sec.id] || Array.prototype.some.call(
        sec.querySelectorAll("section[id]"), function (s) { return hits[s.id]; });
      sec.classList.toggle("search-miss", !keep[sec.id]);
    });
    tocItems.forEach(function (li) {
      var a = li.querySelector("a"), href = a ? a.getAttribute("href") : "";
      var hit = href.charAt(0) === "#" ? keep[href.slice(1)] :
        (li.classList.contains("toc-l1") && remote[a.href.split("#")[0]]) ||
        Array.prototype.some.call(li.querySelectorAll("a"), function (x) { return remote[x.href]; });
      li.classList.toggle("search-miss", !hit);
    });
    status.textContent = total === 0 ? "Ingen treff" :
      total + (total === 1 ? " treff" : " treff") + " i " + results.children.length +
      (results.children.length === 1 ? " avsnitt" : " avsnitt");
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { search(input.value); }, 180);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { input.value = ""; reset(); }
  });
})();
