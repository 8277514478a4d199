// The views as WAI-ARIA tabs: Tab reaches the selected tab, the arrow keys,
// Home and End move between tabs and show them, and the address's #fragment
// (#try, #rules, #compare, #ledger) opens a view directly.

export function setupTabs(tablist, onShow = () => {}) {
  const tabs = [...tablist.querySelectorAll('[role="tab"]')];
  const name = (tab) => tab.id.replace(/^tab-/, "");

  function select(tab, { focus = false, remember = true } = {}) {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
    }
    if (focus) tab.focus();
    if (remember) history.replaceState(null, "", `#${name(tab)}`);
    onShow(name(tab));
  }

  tablist.addEventListener("click", (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) select(tab);
  });
  tablist.addEventListener("keydown", (event) => {
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    select(tabs[(next + tabs.length) % tabs.length], { focus: true });
  });

  const wanted = tabs.find((tab) => `#${name(tab)}` === location.hash);
  select(wanted || tabs[0], { remember: Boolean(wanted) });
  return { show: (view) => select(tabs.find((tab) => name(tab) === view), { focus: true }) };
}
