// Fills an article's address (slug) from its title as the author types, like the admin's
// prepopulated fields (which cannot follow the title: it lives on the revision, not the
// article). It follows the title only while the slug is empty or still the one made from the
// title, so a slug typed by hand is kept. Saving with an empty slug makes one on the server.
"use strict";
function followTitleWithSlug() {
  const title = document.getElementById("id_title");
  const slug = document.getElementById("id_slug");
  if (title && slug && typeof window.URLify === "function") {
    const maxLength = Number(slug.getAttribute("maxlength")) || 120;
    const fromTitle = () => window.URLify(title.value, maxLength, false);
    let following = slug.value === "" || slug.value === fromTitle();
    slug.addEventListener("input", () => {
      following = slug.value === "" || slug.value === fromTitle();
    });
    title.addEventListener("input", () => {
      if (following) {
        slug.value = fromTitle();
      }
    });
  }
}

// Loaded in the page's <head> with the admin's other scripts: wait for the form.
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", followTitleWithSlug);
} else {
  followTitleWithSlug();
}
