"""The Data Docs site offline and with its history.

Offline. GX's page templates load Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega and a logo
from public CDNs; without the internet the index is unstyled and its run and suite lists (built by
bootstrap-table in the browser) stay empty. `make_offline` copies the same files, shipped in
`data_docs_assets/` (see its README for versions and licences), into `<site>/static/vendor/` and
points every page at them with relative links, so the site works from a local server or from disk.

History. GX's index builder removes the pages of validations its store no longer holds, and the
store of an ephemeral context holds only the current run: a second run deleted the first run's
pages. The runs' results are kept in a file store next to the site (`<reports>/data_docs_results/`)
and `HistoryIndexBuilder` never removes a page, so the index lists every run.

Warnings. GX's index knows two statuses, and a validation whose only failed expectations are
warnings (GX severity "warning": they stop nothing, docs/data-quality.md) was listed "Failed"
beside the blocking failures that stop a run. The index lists it "Warning"
(`SeverityIndexPageRenderer`), and so does the overview of its own page
(`SeverityValidationPageRenderer`), where each expectation carries its severity.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path

from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.render.components import RenderedStringTemplateContent
from great_expectations.render.renderer import SiteIndexPageRenderer, ValidationResultsPageRenderer
from great_expectations.render.renderer.site_builder import DefaultSiteIndexBuilder, _resolve_asset_name
from great_expectations.render.util import resource_key_passes_run_name_filter

logger = logging.getLogger(__name__)
ASSETS = Path(__file__).with_name("data_docs_assets")
VENDOR = Path("static") / "vendor"
GX_LOGO = Path("static") / "images" / "logo-long.png"  # shipped by GX in its static assets

_CDN: list[tuple[re.Pattern, Path]] = [(re.compile(p), target) for p, target in (
    (r"https://maxcdn\.bootstrapcdn\.com/bootstrap/4\.3\.1/css/bootstrap\.min\.css", VENDOR / "bootstrap/bootstrap.min.css"),
    (r"https://stackpath\.bootstrapcdn\.com/bootstrap/4\.3\.1/js/bootstrap\.min\.js", VENDOR / "bootstrap/bootstrap.min.js"),
    (r"https://code\.jquery\.com/jquery-3\.7\.1\.min\.js", VENDOR / "jquery/jquery.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/popper\.js/1\.12\.9/umd/popper\.min\.js", VENDOR / "popper/popper.min.js"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.\d/dist/bootstrap-table\.min\.css",
     VENDOR / "bootstrap-table/bootstrap-table.min.css"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.\d/dist/bootstrap-table\.min\.js",
     VENDOR / "bootstrap-table/bootstrap-table.min.js"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.\d/dist/extensions/filter-control/bootstrap-table-filter-control"
     r"(?:\.min)?\.css", VENDOR / "bootstrap-table/bootstrap-table-filter-control.min.css"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.\d/dist/extensions/filter-control/bootstrap-table-filter-control"
     r"\.min\.js", VENDOR / "bootstrap-table/bootstrap-table-filter-control.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/bootstrap-datepicker/1\.9\.0/css/bootstrap-datepicker\.min\.css",
     VENDOR / "bootstrap-datepicker/bootstrap-datepicker.min.css"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/bootstrap-datepicker/1\.9\.0/js/bootstrap-datepicker\.min\.js",
     VENDOR / "bootstrap-datepicker/bootstrap-datepicker.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/font-awesome/6\.6\.0/css/all\.min\.css",
     VENDOR / "fontawesome/css/all.min.css"),
    (r"https://cdn\.jsdelivr\.net/npm/@forevolve/bootstrap-dark@1\.1\.0/dist/css/bootstrap-prefers-dark\.css",
     VENDOR / "bootstrap-dark/bootstrap-prefers-dark.css"),
    (r"https://cdn\.jsdelivr\.net/npm/vega@5", VENDOR / "vega/vega.min.js"),
    (r"https://cdn\.jsdelivr\.net/npm/vega-lite@5", VENDOR / "vega/vega-lite.min.js"),
    (r"https://cdn\.jsdelivr\.net/npm/vega-embed@6", VENDOR / "vega/vega-embed.min.js"),
    (r"https://great-expectations-web-assets\.s3\.[\w.-]+\.amazonaws\.com/[\w.-]+\.png(?:\?[^\"')]*)?", GX_LOGO),
)]
# a <script> or <link> tag loading a file of the site itself (a relative address)
LOCAL_TAG = re.compile(r"""<(?:script|link)\b[^>]*\s(?:src|href)=["'](?!https?:|//)[^>]*>""", re.I)
# Subresource-integrity attributes: from disk (file://) the browser refuses a script that carries
# crossorigin="anonymous" (a file has no origin to grant it), so GX's tabs and "Show more info"
# stayed dead when the index was opened from disk; the files are the site's own, nothing to verify
SRI_ATTRIBUTE = re.compile(r"""\s(?:integrity|crossorigin)=["'][^"']*["']""", re.I)
# GX's footer invites to its newsletter: a link out of a site made to be read offline, in an office
NEWSLETTER_FOOTER = re.compile(r"<footer>\s*<p>Stay current on everything GX.*?</footer>", re.S)
# A validation's status in the index: its expectations all met, only warnings not met, or a blocking one not met
SUCCESS, WARNING, FAILED = "success", "warning", "failed"
# Font Awesome's yellow triangle, for WARNING on the index and on a validation's page alike
WARNING_ICON_CLASSES = ["fas", "fa-exclamation-triangle", "text-warning"]
# what a page would fetch by itself (not links a reader may follow)
EXTERNAL_LOAD = re.compile(r"""(?:<script[^>]*\ssrc|<link[^>]*\shref|<img[^>]*\ssrc)=["']https?://|"""
                           r"""url\(\s*["']?https?://""", re.I)


class HistoryIndexBuilder(DefaultSiteIndexBuilder):
    """GX's index builder, except that it never removes the page of an earlier run or suite, and
    that it reads each stored validation result once, not in every build.

    GX's builder loads every result in the store to list it (its success, asset and batch), in
    every build: with the history kept, each build of a run got slower with every earlier run
    (275 results after a province first load and one weekly run: 0.46 s of a 0.9 s build). What
    the index shows of a result is kept in `entries_file` (JSON, beside the site), and a stored
    result never changes: each build reads only the results stored since. Which results are
    listed, and in which order, is GX's (its run-name filter, its limit, newest first)."""

    # GX hands a site's index builder only the arguments its __init__ names: GX's own, and ours
    def __init__(self, name, site_name, data_context, target_store, site_section_builders_config,
                 custom_styles_directory=None, custom_views_directory=None, show_how_to_buttons=True,
                 validation_results_limit=None, renderer=None, view=None, data_context_id=None, source_stores=None,
                 entries_file: str | None = None, **kwargs) -> None:
        super().__init__(name, site_name, data_context, target_store, site_section_builders_config,
                         custom_styles_directory=custom_styles_directory, custom_views_directory=custom_views_directory,
                         show_how_to_buttons=show_how_to_buttons, validation_results_limit=validation_results_limit,
                         renderer=renderer or {"module_name": __name__, "class_name": "SeverityIndexPageRenderer"},
                         view=view, data_context_id=data_context_id, source_stores=source_stores, **kwargs)
        self.entries_file = Path(entries_file) if entries_file else None

    def build(self, skip_and_clean_missing: bool = False, build_index: bool = True):
        return super().build(skip_and_clean_missing=False, build_index=build_index)

    def _add_validations_to_index_links(self, index_links_dict, validation_and_profiling_result_site_keys) -> None:
        if self.entries_file is None:
            return super()._add_validations_to_index_links(index_links_dict, validation_and_profiling_result_site_keys)
        entries = _read_entries(self.entries_file)
        run_name_filter = self.site_section_builders_config["validations"]["run_name_filter"]
        keys = sorted((k for k in validation_and_profiling_result_site_keys
                       if resource_key_passes_run_name_filter(k, run_name_filter)),
                      key=lambda k: k.run_id.run_time, reverse=True)
        if self.validation_results_limit:
            keys = keys[:self.validation_results_limit]
        added = False
        for key in keys:
            name = "/".join(map(str, key.to_tuple()))
            if "status" not in entries.get(name, {}):  # not read yet, or by a version without statuses
                try:
                    validation = self.data_context.get_validation_result(
                        batch_identifier=key.batch_identifier,
                        expectation_suite_name=key.expectation_suite_identifier.name,
                        run_id=key.run_id,
                        validation_results_store_name=self.source_stores.get("validations"),
                    )
                except Exception:  # as GX's builder: a result it cannot read is left out of the index
                    logger.warning("Validation result not found or unreadable: %s - skipping", name)
                    continue
                if not validation:
                    continue
                entries[name] = {
                    "status": validation_status(validation), "asset_name": _resolve_asset_name(validation),
                    "batch_kwargs": validation.meta.get("batch_kwargs", {}),
                    "batch_spec": validation.meta.get("batch_spec", {}),
                }
                added = True
            entry = entries[name]
            self.add_resource_info_to_index_links_dict(
                index_links_dict=index_links_dict,
                expectation_suite_name=key.expectation_suite_identifier.name,
                section_name="validations",
                batch_identifier=key.batch_identifier,
                run_id=key.run_id,
                validation_success=entry["status"],
                run_time=key.run_id.run_time,
                run_name=key.run_id.run_name,
                asset_name=entry["asset_name"],
                batch_kwargs=entry["batch_kwargs"],
                batch_spec=entry["batch_spec"],
            )
        if added:
            _write_entries(self.entries_file, entries)


def validation_status(validation) -> str:
    """SUCCESS, WARNING (every expectation not met is below GX's "critical") or FAILED."""
    if validation.success:
        return SUCCESS
    return FAILED if validation.get_max_severity_failure() in (FailureSeverity.CRITICAL, None) else WARNING


class SeverityIndexPageRenderer(SiteIndexPageRenderer):
    """GX's index page, with the status WARNING beside GX's two (`HistoryIndexBuilder` hands it
    SUCCESS, WARNING or FAILED as a validation's success): a yellow triangle and "Warning" in the
    status filter."""

    @classmethod
    def _generate_validation_results_link_table(cls, index_links_dict):
        links = index_links_dict.get("validations_links", [])
        statuses = [link.get("validation_success") for link in links]
        as_gx = {**index_links_dict, "validations_links": [
            {**link, "validation_success": status in (True, SUCCESS)} for link, status in zip(links, statuses)]}
        table = super()._generate_validation_results_link_table(as_gx)
        for row, status in zip(table.table_data, statuses):
            if status == WARNING:
                row["validation_success"] = RenderedStringTemplateContent(
                    content_block_type="string_template",
                    string_template={
                        "template": "$validation_success", "params": {"validation_success": ""},
                        "styling": {"params": {"validation_success": {
                            "tag": "i", "classes": [*WARNING_ICON_CLASSES, "ge-warning-icon"]}},
                            "classes": ["ge-index-page-table-validation-links-item"]},
                    },
                )
                row["_validation_success_text"] = "Warning"
        return table


class SeverityValidationPageRenderer(ValidationResultsPageRenderer):
    """GX's page of one validation, whose overview says "Warning" (as the index does) where every
    expectation not met is a warning: GX said "Failed", as for a blocking failure that stops a run.
    Its "Data asset" is the one the index lists: GX read it from batch metadata that pandas
    batches do not carry, and printed "None"."""

    @classmethod
    def _render_validation_header(cls, validation_results):
        header = super()._render_validation_header(validation_results)
        params = header.subheader.string_template["params"]
        params["data_asset_name"] = params.get("data_asset_name") or _resolve_asset_name(validation_results)
        if validation_status(validation_results) == WARNING:
            params["success"] = "Warning"
            params["html_success_icon"] = f'<i class="{" ".join(WARNING_ICON_CLASSES)}" aria-hidden="true"></i>'
        return header


def _read_entries(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or unreadable: read the results again
        return {}


def _write_entries(path: Path, entries: dict) -> None:
    """Written whole to a temporary file, then renamed: a build killed midway leaves the old file."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(json.dumps(entries, ensure_ascii=False, default=str), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise


def make_offline(site: Path, since: float | None = None) -> int:
    """Copy the assets into the site and rewrite the CDN links of its pages (those modified at or after
    `since`, every page when None) and of GX's stylesheet, without the integrity attributes of the
    tags that now load the site's own files and without GX's newsletter footer; returns how many
    files were rewritten."""
    shutil.copytree(ASSETS, site / VENDOR, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    rewritten = 0
    files = [*site.rglob("*.html"), *(site / "static" / "styles").glob("*.css")]
    for path in files:
        if since is not None and path.stat().st_mtime < since and path.suffix == ".html":
            continue
        text = path.read_text(encoding="utf-8")
        new = text
        for pattern, target in _CDN:
            relative = Path(os.path.relpath(site / target, path.parent)).as_posix()
            new = pattern.sub(relative, new)
        new = LOCAL_TAG.sub(lambda m: SRI_ATTRIBUTE.sub("", m.group(0)), new)
        new = NEWSLETTER_FOOTER.sub("", new)
        if new != text:
            path.write_text(new, encoding="utf-8")
            rewritten += 1
    return rewritten


def external_loads(site: Path) -> list[str]:
    """`file: fragment` for every page or stylesheet of the site that would still load from the internet."""
    found = []
    for path in [*site.rglob("*.html"), *site.rglob("*.css")]:
        for m in EXTERNAL_LOAD.finditer(path.read_text(encoding="utf-8", errors="replace")):
            found.append(f"{path.relative_to(site)}: {m.group(0)}")
    return found
