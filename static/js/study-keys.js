// Suggests study keys while an author types a citation marker ("[@che", or "; @ha" inside
// one) in an article body. The keys come from the <datalist> the server renders below the
// body, which also works on its own without JavaScript. The suggestions are buttons right
// after the textarea: Down arrow (or Tab) reaches them, Enter inserts the key, Escape returns.
"use strict";
{
  const MARKER = /(?:^\[|;\s*)@([A-Za-z0-9_-]*)$/;
  const LIMIT = 8;

  function currentPrefix(textarea) {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const open = before.lastIndexOf("[");
    if (open < 0 || before.indexOf("]", open) >= 0 || before.indexOf("\n", open) >= 0) {
      return null;
    }
    const match = before.slice(open).match(MARKER);
    return match ? match[1] : null;
  }

  function matching(keys, prefix) {
    const wanted = prefix.toLowerCase();
    const starts = keys.filter((k) => k.key.toLowerCase().startsWith(wanted));
    const inside = keys.filter(
      (k) => !k.key.toLowerCase().startsWith(wanted) && k.key.toLowerCase().includes(wanted),
    );
    return starts.concat(inside).slice(0, LIMIT);
  }

  function setUp(datalist) {
    const textarea = document.getElementById(datalist.dataset.for);
    if (!textarea) {
      return;
    }
    const keys = Array.from(datalist.options, (option) => ({
      key: option.value,
      title: option.textContent.trim(),
    }));
    const list = document.createElement("ul");
    list.className = "key-suggestions";
    list.id = `${textarea.id}_suggestions`;
    list.setAttribute("aria-label", "Matching study keys");
    list.hidden = true;
    const status = document.createElement("p");
    status.className = "key-suggestions-status";
    status.setAttribute("aria-live", "polite");
    textarea.after(list, status);

    function hide() {
      list.hidden = true;
      list.replaceChildren();
    }

    function insert(key) {
      const caret = textarea.selectionStart;
      const before = textarea.value.slice(0, caret);
      const prefix = currentPrefix(textarea) || "";
      let after = textarea.value.slice(caret);
      // Complete the key being typed, and close the marker unless it already goes on.
      after = after.replace(/^[A-Za-z0-9_-]*/, "");
      const closing = /^\s*[\];,]/.test(after) ? "" : "]";
      const start = before.length - prefix.length;
      textarea.value = before.slice(0, start) + key + closing + after;
      const position = start + key.length + closing.length;
      textarea.focus();
      textarea.setSelectionRange(position, position);
      hide();
      status.textContent = `Inserted ${key}.`;
    }

    function update() {
      const prefix = currentPrefix(textarea);
      if (prefix === null) {
        hide();
        return;
      }
      const found = matching(keys, prefix);
      list.replaceChildren(
        ...found.map((study) => {
          const item = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          button.dataset.key = study.key;
          const key = document.createElement("strong");
          key.textContent = study.key;
          button.append(key, ` ${study.title}`);
          button.addEventListener("click", () => insert(study.key));
          item.append(button);
          return item;
        }),
      );
      list.hidden = found.length === 0;
      status.textContent = found.length
        ? `${found.length} study key${found.length === 1 ? "" : "s"} match; press Down to choose.`
        : "No study key matches.";
    }

    textarea.addEventListener("input", update);
    textarea.addEventListener("click", update);
    textarea.addEventListener("keydown", (event) => {
      if (list.hidden) {
        return;
      }
      if (event.key === "ArrowDown") {
        event.preventDefault();
        list.querySelector("button").focus();
      } else if (event.key === "Escape") {
        hide();
      }
    });
    list.addEventListener("keydown", (event) => {
      const buttons = Array.from(list.querySelectorAll("button"));
      const index = buttons.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && index < buttons.length - 1) {
        event.preventDefault();
        buttons[index + 1].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        (index > 0 ? buttons[index - 1] : textarea).focus();
      } else if (event.key === "Escape") {
        hide();
        textarea.focus();
      }
    });
  }

  // Loaded in the page's <head> with the admin's other scripts: wait for the form.
  const start = () => document.querySelectorAll("datalist[data-for]").forEach(setUp);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}
