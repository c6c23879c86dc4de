/// The dashboard: one page, no build step, fed by `/dashboard/events`.
///
/// Elements carry `data-` attributes (`data-service`, `data-status`, `data-breaker`,
/// `data-state`) so the browser test reads what a person sees.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Suite health</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
          body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; background: #f6f7f9; color: #1d2330; }
          h1 { font-size: 1.3rem; margin: 0 0 .25rem; } h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
          #connection { font-size: .85rem; color: #667; }
          .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: .75rem; }
          .card { background: #fff; border-radius: .5rem; padding: .75rem; border-left: .4rem solid #999; box-shadow: 0 1px 2px #0001; }
          .card[data-status="up"] { border-color: #2a9d4b; } .card[data-status="down"] { border-color: #d33; }
          .card[data-status="unknown"] { border-color: #999; }
          .badge { display: inline-block; padding: 0 .4rem; border-radius: .3rem; font-size: .8rem; color: #fff; background: #999; }
          .up, .closed { background: #2a9d4b; } .down, .open, .forced_open { background: #d33; }
          .degraded, .half_open { background: #e09b16; } .disabled { background: #667; }
          table { border-collapse: collapse; background: #fff; } td, th { padding: .3rem .6rem; border-bottom: 1px solid #eee; text-align: left; }
          ul { padding-left: 1.2rem; } small { color: #667; }
        </style>
        </head>
        <body>
        <h1>Suite health</h1>
        <div id="connection">connecting…</div>
        <h2>Services</h2>
        <div class="grid" id="services"></div>
        <h2>Breakers</h2>
        <table><thead><tr><th>caller</th><th>instance</th><th>dependency</th><th>state</th><th>reason</th></tr></thead><tbody id="breakers"></tbody></table>
        <h2>Tripwires</h2>
        <ul id="tripwires"></ul>
        <h2>History</h2>
        <ul id="history"></ul>
        <script>
        const text = (tag, value, cls) => { const e = document.createElement(tag); e.textContent = value; if (cls) e.className = cls; return e; };
        const time = ms => new Date(ms).toLocaleTimeString();
        function render(state) {
          const services = document.getElementById("services");
          services.replaceChildren(...state.services.map(s => {
            const card = document.createElement("div");
            card.className = "card"; card.dataset.service = s.service; card.dataset.status = s.availability;
            card.append(text("strong", s.service + " "), text("span", s.availability, "badge " + s.availability));
            if (s.peer_reporter) card.append(text("div", "reported down by " + s.peer_reporter));
            for (const i of s.instances) {
              const row = document.createElement("div");
              row.dataset.instance = i.instance; row.dataset.status = i.status;
              row.append(text("span", i.status, "badge " + i.status), text("small", " " + i.instance + " · v" + i.version + " · heartbeat " + (i.heartbeat_age_ms / 1000).toFixed(1) + " s ago"));
              card.append(row);
            }
            return card;
          }));
          document.getElementById("breakers").replaceChildren(...state.breakers.map(b => {
            const row = document.createElement("tr");
            row.dataset.breaker = b.caller + "->" + b.dependency; row.dataset.state = b.state;
            row.append(text("td", b.caller), text("td", b.instance), text("td", b.dependency));
            const cell = document.createElement("td"); cell.append(text("span", b.state, "badge " + b.state)); row.append(cell, text("td", b.reason));
            return row;
          }));
          document.getElementById("tripwires").replaceChildren(...(state.tripwires.length ? state.tripwires.map(t => {
            const item = text("li", t.rule + ": " + t.state + (t.at ? " at " + time(t.at) : ""));
            item.dataset.tripwire = t.rule; item.dataset.state = t.state; return item;
          }) : [text("li", "none reported")]));
          document.getElementById("history").replaceChildren(...state.history.slice(0, 20).map(h => text("li", time(h.at) + " " + (
            h.kind === "service" ? h.service + " → " + h.to :
            h.kind === "breaker" ? "breaker " + h.caller + " → " + h.dependency + ": " + h.from + " → " + h.to + " (" + h.reason + ")" :
            "tripwire " + h.rule + ": " + h.state))));
        }
        // Relative to the page's own path, with or without its trailing slash.
        const events = new EventSource(location.pathname.replace(/\/?$/, "/") + "events");
        events.addEventListener("state", e => { render(JSON.parse(e.data)); document.getElementById("connection").textContent = "live · " + new Date().toLocaleTimeString(); });
        events.onerror = () => { document.getElementById("connection").textContent = "reconnecting…"; };
        </script>
        </body>
        </html>
        """#
}
