// Show only the fields the chosen mode takes (all stay in the form; the server checks them anyway).
(function () {
  const shown = {nat: ["bridge", "forward_dev", "ipv4", "ipv6"], route: ["bridge", "forward_dev", "ipv4", "ipv6"],
                 open: ["bridge", "forward_dev", "ipv4", "ipv6"], isolated: ["bridge", "ipv4", "ipv6"],
                 bridge: ["bridge"], macvtap: ["forward_dev", "macvtap_mode"]};
  const groups = {ipv4: ["ipv4_address", "ipv4_prefix", "dhcp_start", "dhcp_end", "static_hosts", "dns_hosts"], ipv6: ["ipv6_address", "ipv6_prefix"]};
  const optional = ["bridge", "forward_dev", "macvtap_mode", ...groups.ipv4, ...groups.ipv6];
  const mode = document.getElementById("id_mode");
  function update() {
    const wanted = (shown[mode.value] || []).flatMap((name) => groups[name] || [name]);
    for (const name of optional) {
      const row = document.querySelector(`[data-field="${name}"]`);
      if (row) row.hidden = !wanted.includes(name);
    }
  }
  mode.addEventListener("change", update);
  update();
})();
