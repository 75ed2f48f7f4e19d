// MathJax 3, served by this site itself: the docs build copies it from the
// django-static-mathjax package (docs/_hooks/offline_math.py), so formulas render with no
// network. Every page loads this file (extra_javascript); the tutorial's notebook template
// loads it too, earlier and with "?notebook", and the first load wins.
(function () {
  if (window.MathJax) {
    return;
  }
  var here = document.currentScript.src;
  var notebook = here.indexOf("?notebook") >= 0;
  window.MathJax = {
    tex: {
      // Markdown pages: pymdownx.arithmatex writes \( \) and \[ \]. Notebook cells and
      // outputs (SymPy's LaTeX from ad.explain) use $ $ and $$ $$, as Jupyter does.
      inlineMath: notebook ? [["$", "$"], ["\\(", "\\)"]] : [["\\(", "\\)"]],
      displayMath: notebook ? [["$$", "$$"], ["\\[", "\\]"]] : [["\\[", "\\]"]],
      processEscapes: true,
      processEnvironments: true,
    },
    // Markdown pages: only what arithmatex marked is math (a "$" in prose stays a dollar).
    options: notebook ? {} : { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex" },
  };
  var script = document.createElement("script");
  script.src = new URL("../mathjax/es5/tex-chtml.js", here).href;
  script.async = true;
  document.head.appendChild(script);
})();
