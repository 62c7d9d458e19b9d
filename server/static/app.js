// tongban: a little progressive enhancement. Every page works without it.
(function () {
  "use strict";
  // Print buttons: hidden until the script can make them work.
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });

  // Location picker: a click on the district map sets the hidden lat/long.
  var map = document.getElementById("map");
  if (map) {
    var svg = document.getElementById("map-svg");
    var marker = document.getElementById("map-marker");
    var lat = document.getElementById("lat");
    var lng = document.getElementById("long");
    var status = document.getElementById("map-status");
    var minLong = parseFloat(map.dataset.minlong), maxLat = parseFloat(map.dataset.maxlat);
    var kx = parseFloat(map.dataset.kx), ky = parseFloat(map.dataset.ky);
    var show = function () {
      if (lat.value && lng.value) {
        marker.setAttribute("cx", ((parseFloat(lng.value) - minLong) * kx).toFixed(1));
        marker.setAttribute("cy", ((maxLat - parseFloat(lat.value)) * ky).toFixed(1));
        status.textContent = status.dataset.chosen + "：" + parseFloat(lat.value).toFixed(5) + ", " + parseFloat(lng.value).toFixed(5);
      } else {
        marker.setAttribute("cx", "-50");
        marker.setAttribute("cy", "-50");
        status.textContent = status.dataset.none;
      }
    };
    svg.addEventListener("click", function (ev) {
      var pt = svg.createSVGPoint();
      pt.x = ev.clientX; pt.y = ev.clientY;
      var p = pt.matrixTransform(svg.getScreenCTM().inverse());
      lng.value = (minLong + p.x / kx).toFixed(6);
      lat.value = (maxLat - p.y / ky).toFixed(6);
      show();
    });
    document.getElementById("map-clear").addEventListener("click", function () {
      lat.value = ""; lng.value = ""; show();
    });
    map.hidden = false;
    if (lat.value) { show(); }
  }

  // Routing suggestions and duplicates: a click fills the form field.
  document.querySelectorAll("[data-fill]").forEach(function (b) {
    b.addEventListener("click", function () {
      var f = document.getElementById(b.dataset.fill);
      if (f) { f.value = b.dataset.value; f.focus(); }
    });
  });

  // Public form: similar open requests, asked once the body is typed.
  var similar = document.getElementById("similar");
  var sbody = document.getElementById("body"), stitle = document.getElementById("title");
  if (similar && sbody && window.fetch) {
    var timer = null, last = "";
    var ask = function () {
      var q = (stitle ? stitle.value : "") + "\n" + sbody.value;
      if (sbody.value.length < 10 || q === last) { return; }
      last = q;
      var csrf = document.querySelector("input[name=csrf]");
      var headers = { "Content-Type": "application/json" };
      if (csrf) { headers["X-CSRF-Token"] = csrf.value; }
      fetch("/api/v1/similar", { method: "POST", headers: headers, credentials: "same-origin",
        body: JSON.stringify({ title: stitle ? stitle.value : "", body: sbody.value }) })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (list) {
          similar.textContent = "";
          if (!list || !list.length) { similar.hidden = true; return; }
          var p = document.createElement("p");
          p.textContent = similar.dataset.title;
          similar.appendChild(p);
          var ul = document.createElement("ul");
          list.forEach(function (x) {
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = "/track?code=" + encodeURIComponent(x.tracking_code);
            a.textContent = x.tracking_code;
            li.appendChild(a);
            li.appendChild(document.createTextNode(" " + x.title));
            ul.appendChild(li);
          });
          similar.appendChild(ul);
          similar.hidden = false;
        })
        .catch(function () {});
    };
    var later = function () { clearTimeout(timer); timer = setTimeout(ask, 800); };
    sbody.addEventListener("input", later);
    sbody.addEventListener("blur", ask);
  }

  // Move focus to the first field with an error, so it is seen and heard.
  var bad = document.querySelector(".field.bad input, .field.bad select, .field.bad textarea");
  if (bad) { bad.focus(); }
})();
