"""Regenerate the bad-input corpus: the small valid package in _base/ and one folder per case.

Run it after changing datapackage.yaml (a new table needs base rows here):
.venv/bin/python tests/bad_inputs/generate.py
"""
import csv
import io
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/bad_inputs"
for old in OUT.iterdir():
    if old.is_dir():
        shutil.rmtree(old)
dp = yaml.safe_load(open(ROOT / "datapackage.yaml"))
fields = {r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in dp["resources"]}

base = {
 "sources": [
  dict(id="S001", url="https://example.org/afspraken-2024", title="Afspraken 2024 (testbron)", publisher="Testuitgever", published_on="2024-02-25", retrieved_on="2026-11", notes=""),
  dict(id="S002", url="https://example.org/nieuws", title="Nieuwsbericht (testbron)", publisher="Testomroep", published_on="2023", retrieved_on="2026-11", notes="")],
 "partners": [
  dict(id="gemeente-test", name="Gemeente Test", short_name="", kind="gemeente", website="https://example.org", seat="Testdorp", represents_id="", started_on="2019-01-01", ended_on="", end_reason="", successor_id="", summary_nl="Testgemeente.", summary_en="Test municipality.", source_id="S001", notes=""),
  dict(id="corp-a", name="Corporatie A", short_name="A", kind="woningcorporatie", website="", seat="", represents_id="", started_on="", ended_on="", end_reason="", successor_id="", summary_nl="Corporatie.", summary_en="Corporation.", source_id="S002", notes=""),
  dict(id="corp-b", name="Corporatie B", short_name="B", kind="woningcorporatie", website="", seat="", represents_id="", started_on="", ended_on="2023", end_reason="fusie", successor_id="corp-a", summary_nl="Opgegaan in A.", summary_en="Merged into A.", source_id="S002", notes=""),
  dict(id="huurders-a", name="Huurdersvereniging A", short_name="", kind="huurdersorganisatie", website="", seat="", represents_id="corp-a", started_on="", ended_on="", end_reason="", successor_id="", summary_nl="Huurders van A.", summary_en="Tenants of A.", source_id="S002", notes="")],
 "documents": [
  dict(id="doc-2024", municipality="Testgemeente", kind="prestatieafspraken", title="Afspraken 2024", period_start="2024", period_end="2024", published_on="2024-02-25", signed_on="", summary_nl="Jaarafspraken.", summary_en="Yearly agreements.", source_id="S001", notes=""),
  dict(id="doc-2023", municipality="Testgemeente", kind="verlenging", title="Afspraken 2023", period_start="2023", period_end="2023", published_on="", signed_on="2022-12", summary_nl="Verlenging.", summary_en="Extension.", source_id="S002", notes="")],
 "document_relations": [dict(document_id="doc-2024", relation="gebaseerd_op", related_document_id="doc-2023", source_id="S001", notes="")],
 "document_partners": [dict(document_id="doc-2024", partner_id="gemeente-test", role="ondertekenaar", source_id="S001", notes="")],
 "themes": [
  dict(id="doc-2024-betaalbaarheid", document_id="doc-2024", theme_key="betaalbaarheid", name_nl="Betaalbaarheid", name_en="Affordability", description_nl="Betaalbaar wonen.", description_en="Affordable housing.", priority_rank="1", source_id="S001", notes=""),
  dict(id="doc-2024-leefbaarheid", document_id="doc-2024", theme_key="leefbaarheid", name_nl="Leefbaarheid", name_en="Liveability", description_nl="Prettig wonen.", description_en="Pleasant living.", priority_rank="", source_id="S001", notes="")],
 "agreements": [
  dict(id="agr-1", document_id="doc-2024", theme_id="", kind="procesafspraak", kind_in_source="nee", title_nl="Voortgang bespreken", title_en="Discuss progress", summary_nl="Partijen houden elkaar geïnformeerd.", summary_en="The parties keep each other informed.", responsible_as_stated="partijen", period_start="2024", period_end="2024", section="Inleiding", source_id="S001", notes=""),
  dict(id="agr-2", document_id="doc-2024", theme_id="doc-2024-betaalbaarheid", kind="actiepunt", kind_in_source="ja", title_nl="Huren matigen", title_en="Moderate rents", summary_nl="Een testafspraak.", summary_en="A test agreement.", responsible_as_stated="", period_start="2024", period_end="", section="Betaalbaarheid", source_id="S001", notes="")],
 "agreement_partners": [dict(agreement_id="agr-1", partner_id="gemeente-test", role="verantwoordelijk", source_id="S001", notes="")],
 "specifications": [
  dict(id="spec-1", indicator="Geplande sloop", indicator_en="Planned demolition", qualifier="exact", value="547", unit="woningen", period_start="2022", period_end="2026", reference_date="", area="Testgemeente", document_id="doc-2024", theme_id="", agreement_id="agr-2", partner_id="", source_id="S002", notes=""),
  dict(id="spec-2", indicator="Oppervlakte", indicator_en="Area", qualifier="ongeveer", value="907.71", unit="km2", period_start="", period_end="", reference_date="2024-01-01", area="Testgemeente", document_id="", theme_id="", agreement_id="", partner_id="corp-a", source_id="S002", notes="")],
 "places": [
  dict(id="testdorp", name="Testdorp", municipality="Testgemeente", in_het_hogeland="ja", latitude="53.4", longitude="6.6", coordinates_source_id="S002", source_id="S002", notes=""),
  dict(id="buurdorp", name="Buurdorp", municipality="Buurgemeente", in_het_hogeland="nee", latitude="", longitude="", coordinates_source_id="", source_id="S002", notes="Geen coördinaten in de testbron.")],
 "projects": [
  dict(id="proj-sloop", project_key="proj", name="Testproject", place_id="testdorp", area_as_stated="Testdorp", location_detail="", partner_id="corp-a", kind="sloop", homes="10", qualifier="exact", announced_on="2023", started_on="", delivered_on="2024", status="opgeleverd", status_date="2024", part_of_id="", agreement_id="", target_specification_id="", related_specification_id="spec-1", summary_nl="Tien woningen gesloopt.", summary_en="Ten homes demolished.", source_id="S002", notes=""),
  dict(id="proj-meer", project_key="proj-meer", name="Project in twee dorpen", place_id="", area_as_stated="Testdorp en Buurdorp", location_detail="", partner_id="corp-a", kind="verduurzaming", homes="", qualifier="", announced_on="", started_on="", delivered_on="", status="aangekondigd", status_date="", part_of_id="", agreement_id="agr-2", target_specification_id="", related_specification_id="", summary_nl="Verduurzaming zonder aantal.", summary_en="Sustainability work without a number.", source_id="S002", notes="")],
 "project_places": [
  dict(project_id="proj-meer", place_id="testdorp", source_id="S002", notes=""),
  dict(project_id="proj-meer", place_id="buurdorp", source_id="S002", notes="Ligt buiten de testgemeente.")],
 "coverage": [dict(id="cov-1", document_id="doc-2024", part_nl="Bijlage", part_en="Annex", status="ontbreekt", explanation_nl="Niet gevonden.", explanation_en="Not found.", source_id="S001")],
}

def render(table, rows):
    out = io.StringIO(); w = csv.DictWriter(out, fields[table], lineterminator="\n"); w.writeheader()
    for r in rows: w.writerow(r)
    return out.getvalue()

(OUT / "_base/csv").mkdir(parents=True)
for t in fields:
    (OUT / "_base/csv" / f"{t}.csv").write_text(render(t, base.get(t, [])), encoding="utf-8")

import copy

cases = []
# special: {table: (kind, content)}; the test makes csv/<table>.csv a directory ("dir"), a named pipe ("fifo"),
# a symbolic link to content ("symlink"; {outside} is a valid copy of the file outside the project), an
# unreadable file ("unreadable") or a sparse file larger than the loader reads ("oversize"). Git cannot hold
# those, so the case folder holds a marker file csv/<table>.csv.<kind> with the content.
def case(name, expected, files=None, raw=None, delete=(), special=None):
    cases.append((name, expected, files or {}, raw or {}, delete, special or {}))

def mod(table, i, **changes):
    rows = copy.deepcopy(base[table]); rows[i].update(changes); return {table: rows}
def add(table, row):
    rows = copy.deepcopy(base[table]) + [row]; return {table: rows}
def text(table): return render(table, base[table])

# --- encodings and file format
case("encoding-windows-1252", "csv/partners.csv:2: byte 25: not valid UTF-8", raw={"partners": render("partners", [dict(base["partners"][0], name="Gemeente Tëst")] + base["partners"][1:]).encode("cp1252")})
case("encoding-utf-16", "csv/sources.csv:1: (file): file is UTF-16", raw={"sources": text("sources").encode("utf-16")})
case("encoding-utf-8-bom", "csv/themes.csv:1: (file): byte-order mark", raw={"themes": b"\xef\xbb\xbf" + text("themes").encode()})
case("line-endings-crlf", "csv/coverage.csv:1: (file): CR LF", raw={"coverage": text("coverage").replace("\n", "\r\n").encode()})
case("delimiter-semicolon", "csv/documents.csv:1: (file): separated by semicolon", raw={"documents": text("documents").replace(",", ";").encode()})
case("delimiter-tab", "csv/agreement_partners.csv:1: (file): separated by tab", raw={"agreement_partners": text("agreement_partners").replace(",", "\t").encode()})
case("delimiter-mixed-row", "csv/document_partners.csv:2: (row): row has 1 cells but the header has 5", raw={"document_partners": text("document_partners").replace("doc-2024,gemeente-test,ondertekenaar,S001,", "doc-2024;gemeente-test;ondertekenaar;S001;").encode()})
case("file-empty", "csv/agreements.csv:1: (file): file is empty", raw={"agreements": b""})
case("file-whitespace-only", "csv/specifications.csv:1: (file): file is empty", raw={"specifications": b"\n\n  \n"})
case("file-header-only-sources", "csv/sources.csv:2: (file): file has a header but 0 rows", raw={"sources": (",".join(fields["sources"]) + "\n").encode()})
case("file-header-only-documents", "csv/documents.csv:2: (file): file has a header but 0 rows", raw={"documents": (",".join(fields["documents"]) + "\n").encode()})
case("file-missing", "csv/themes.csv:1: (file): file is missing", delete=("themes",))
case("file-unknown-extra", "csv/notities.csv:1: (file): not described in datapackage.yaml", raw={"notities": b"a,b\n1,2\n"})
# --- quoting and row shape
case("quote-unterminated", "csv/documents.csv:4: (row): broken quoting", raw={"documents": (text("documents") + '"doc-x,Testgemeente\n').encode()})
case("quote-stray-after-closing", "csv/sources.csv:3: (row): broken quoting", raw={"sources": text("sources").replace("Nieuwsbericht (testbron)", '"Nieuws"bericht').encode()})
case("row-too-few-cells", "csv/themes.csv:2: (row): row has 8 cells but the header has 10", raw={"themes": text("themes").replace(",S001,\n", "\n", 1).encode()})
case("row-too-many-cells", "csv/coverage.csv:2: (row): row has 9 cells but the header has 8", raw={"coverage": text("coverage").replace(",S001\n", ",S001,extra\n").encode()})
case("row-blank-in-middle", "csv/partners.csv:3: (row): empty row", raw={"partners": text("partners").replace("\ncorp-a,", "\n,,,,,,,,,,,,,,\ncorp-a,").encode()})
case("header-trailing-empty-columns", "csv/document_relations.csv:1: (empty): a column without a name", raw={"document_relations": "\n".join(l + ",," for l in text("document_relations").splitlines()).encode() + b"\n"})
# --- header
case("column-renamed", "csv/documents.csv:1: samenvatting_en: unknown column 'samenvatting_en'", raw={"documents": text("documents").replace("summary_en", "samenvatting_en", 1).encode()})
case("column-missing", "csv/sources.csv:1: publisher: column 'publisher' is missing", raw={"sources": "\n".join(",".join(c for j, c in enumerate(next(csv.reader([l]))) if j != 3) for l in text("sources").splitlines()).encode() + b"\n"})
case("column-out-of-order", "csv/agreement_partners.csv:1: (header): columns are out of order", raw={"agreement_partners": "\n".join(",".join([r[1], r[0], *r[2:]]) for r in csv.reader(text("agreement_partners").splitlines())).encode() + b"\n"})
case("column-duplicate", "csv/coverage.csv:1: status: appears more than once", raw={"coverage": text("coverage").replace("part_en,status", "status,status", 1).encode()})
# --- keys
case("id-duplicate-source", "csv/sources.csv:4: id: duplicate id 'S001'", files=add("sources", base["sources"][0]))
case("id-duplicate-agreement", "csv/agreements.csv:4: id: duplicate id 'agr-1'", files=add("agreements", base["agreements"][0]))
case("key-duplicate-composite", "csv/document_partners.csv:3: document_id,partner_id,role: duplicate", files=add("document_partners", base["document_partners"][0]))
case("id-missing", "csv/partners.csv:3: id: is empty but required", files=mod("partners", 1, id=""))
case("id-bad-form", "csv/themes.csv:2: id: has the wrong form", files=mod("themes", 0, id="Doc 2024 Betaalbaarheid"))
case("source-id-bad-form", "csv/sources.csv:3: id: has the wrong form", files=mod("sources", 1, id="bron-2"))
case("fk-unknown-document", "csv/agreements.csv:2: document_id: 'doc-1999' does not exist in csv/documents.csv", files=mod("agreements", 0, document_id="doc-1999"))
case("fk-unknown-theme", "csv/agreements.csv:3: theme_id: 'doc-2024-duurzaamheid' does not exist in csv/themes.csv", files=mod("agreements", 1, theme_id="doc-2024-duurzaamheid"))
case("fk-unknown-source", "csv/specifications.csv:2: source_id: 'S404' does not exist in csv/sources.csv", files=mod("specifications", 0, source_id="S404"))
case("fk-unknown-represented", "csv/partners.csv:5: represents_id: 'corp-z' does not exist", files=mod("partners", 3, represents_id="corp-z"))
case("fk-unknown-related-document", "csv/document_relations.csv:2: related_document_id: 'doc-2019' does not exist", files=mod("document_relations", 0, related_document_id="doc-2019"))
case("source-missing", "csv/themes.csv:3: source_id: is empty but required", files=mod("themes", 1, source_id=""))
case("successor-self", "csv/partners.csv:3: successor_id: successor_id links form a cycle (corp-a -> corp-a)", files=mod("partners", 1, successor_id="corp-a", end_reason="fusie"))
case("successor-two-cycle", "csv/partners.csv:3: successor_id: successor_id links form a cycle (corp-a -> corp-b -> corp-a)", files=mod("partners", 1, successor_id="corp-b", end_reason="fusie"))
rows3 = copy.deepcopy(base["partners"]); rows3[0].update(successor_id="corp-b"); rows3[1].update(successor_id="gemeente-test")
case("successor-three-cycle", "csv/partners.csv:2: successor_id: successor_id links form a cycle (gemeente-test -> corp-b -> corp-a -> gemeente-test)", files={"partners": rows3})
case("represents-cycle", "csv/partners.csv:3: represents_id: represents_id links form a cycle (corp-a -> huurders-a -> corp-a)", files=mod("partners", 1, represents_id="huurders-a"))
case("part-of-self", "csv/projects.csv:2: part_of_id: part_of_id links form a cycle (proj-sloop -> proj-sloop)", files=mod("projects", 0, part_of_id="proj-sloop"))
rowsp = copy.deepcopy(base["projects"]); rowsp[0].update(part_of_id="proj-meer"); rowsp[1].update(part_of_id="proj-sloop")
case("part-of-two-cycle", "csv/projects.csv:2: part_of_id: part_of_id links form a cycle (proj-sloop -> proj-meer -> proj-sloop)", files={"projects": rowsp})
# --- values
case("date-feb-29-non-leap", "csv/sources.csv:2: published_on: '2023-02-29' is not a date that exists", files=mod("sources", 0, published_on="2023-02-29"))
case("date-april-31", "csv/documents.csv:3: signed_on: '2024-04-31' is not a date that exists", files=mod("documents", 1, signed_on="2024-04-31"))
case("date-month-13", "csv/agreements.csv:2: period_end: '2024-13' has no month 13", files=mod("agreements", 0, period_end="2024-13"))
case("date-dutch-order", "csv/sources.csv:3: published_on: '25-02-2024' is not a date", files=mod("sources", 1, published_on="25-02-2024"))
case("integer-with-letters", "csv/documents.csv:2: period_start: '2024a' is not a whole number", files=mod("documents", 0, period_start="2024a"))
case("integer-out-of-range", "csv/documents.csv:2: period_start: 1800 is below the minimum 1990", files=mod("documents", 0, period_start="1800"))
case("number-decimal-comma", "csv/specifications.csv:3: value: '907,71' is not a number with a point as decimal separator", files=mod("specifications", 1, value="907,71"))
case("number-thousands-separators", "csv/specifications.csv:2: value: '5.600.000' is not a number", files=mod("specifications", 0, value="5.600.000"))
case("number-negative-count", "csv/specifications.csv:2: value: -5 is below the minimum 0", files=mod("specifications", 0, value="-5"))
case("rank-zero", "csv/themes.csv:2: priority_rank: 0 is below the minimum 1", files=mod("themes", 0, priority_rank="0"))
case("enum-agreement-kind", "csv/agreements.csv:2: kind: 'wens' is not an allowed value; use one of: actiepunt, procesafspraak", files=mod("agreements", 0, kind="wens"))
case("enum-partner-kind", "csv/partners.csv:3: kind: 'bank' is not an allowed value", files=mod("partners", 1, kind="bank"))
case("enum-wrong-case", "csv/coverage.csv:2: status: 'Ontbreekt' is not an allowed value", files=mod("coverage", 0, status="Ontbreekt"))
case("boolean-english", "csv/agreements.csv:2: kind_in_source: 'yes' is not allowed; write ja or nee", files=mod("agreements", 0, kind_in_source="yes"))
case("text-too-long", "csv/partners.csv:2: name: text is 5000 characters, at most 200 are allowed", files=mod("partners", 0, name="x" * 5000))
case("url-without-scheme", "csv/sources.csv:2: url:", files=mod("sources", 0, url="www example org"))
case("control-character-bell", "csv/agreements.csv:2: summary_nl: control character U+0007", files=mod("agreements", 0, summary_nl="Partijen\x07 houden elkaar op de hoogte."))
case("control-character-nul", "csv/documents.csv:3: title: control character U+0000", files=mod("documents", 1, title="Afspraken\x00 2023"))
case("html-markup", "csv/documents.csv:2: summary_nl: text contains HTML markup '<b>'", files=mod("documents", 0, summary_nl="Jaarafspraken <b>2024</b>."))
case("html-script", "csv/agreements.csv:3: title_en: text contains HTML markup '<script>'", files=mod("agreements", 1, title_en="<script>alert(1)</script>"))
case("formula-equals", "csv/themes.csv:3: name_nl: text starts like a spreadsheet formula", files=mod("themes", 1, name_nl="=HYPERLINK(\"http://x\")"))
case("formula-at-function", "csv/partners.csv:4: short_name: text starts like a spreadsheet formula", files=mod("partners", 2, short_name="@SUM(A1:A2)"))
case("formula-plus-cmd", "csv/coverage.csv:2: explanation_en: text starts like a spreadsheet formula", files=mod("coverage", 0, explanation_en="+cmd(calc)"))
case("formula-dde-pipe", "csv/coverage.csv:2: explanation_en: text starts like a spreadsheet formula ('+cmd|' /C calc'!A0')", files=mod("coverage", 0, explanation_en="+cmd|' /C calc'!A0"))
case("formula-minus-dde", "csv/partners.csv:3: summary_nl: text starts like a spreadsheet formula", files=mod("partners", 1, summary_nl="-cmd|' /C notepad'!A0"))
case("formula-minus-words", "csv/agreements.csv:3: summary_en: text starts like a spreadsheet formula ('- first item of the", files=mod("agreements", 1, summary_en="- first item of the list"))
case("formula-minus-arithmetic", "csv/documents.csv:2: title: text starts like a spreadsheet formula", files=mod("documents", 0, title="-2+3 afspraken"))
case("formula-tab-equals", "csv/themes.csv:2: description_en: text starts like a spreadsheet formula ('<U+0009>=1+1')", files=mod("themes", 0, description_en="\t=1+1"))
case("formula-fullwidth-equals", "csv/projects.csv:3: name: text starts like a spreadsheet formula", files=mod("projects", 1, name="\uff1dHYPERLINK(\"http://x\")"))
case("formula-at-word", "csv/places.csv:2: notes: text starts like a spreadsheet formula", files=mod("places", 0, notes="@cmd"))
# --- invisible characters: refused in text, shown as <U+XXXX> wherever a message quotes a cell
case("invisible-bom-in-cell", "csv/partners.csv:2: name: invisible character U+FEFF", files=mod("partners", 0, name="\ufeffGemeente Test"))
case("invisible-zero-width-space", "csv/agreements.csv:2: title_nl: invisible character U+200B (zero width space)", files=mod("agreements", 0, title_nl="Voortgang\u200bbespreken"))
case("invisible-bidi-override", "csv/documents.csv:3: summary_en: invisible character U+202E", files=mod("documents", 1, summary_en="Extension \u202etxt.exe"))
case("invisible-soft-hyphen", "csv/themes.csv:3: description_nl: invisible character U+00AD", files=mod("themes", 1, description_nl="Prettig wo\u00adnen."))
case("invisible-line-separator", "csv/sources.csv:3: title: invisible character U+2028", files=mod("sources", 1, title="Nieuws\u2028bericht"))
case("control-character-c1", "csv/coverage.csv:2: explanation_nl: control character U+0085", files=mod("coverage", 0, explanation_nl="Niet\u0085gevonden."))
case("control-character-c1-csi", "csv/places.csv:3: name: control character U+009B", files=mod("places", 1, name="Buur\u009bdorp"))
case("id-nbsp", "csv/themes.csv:2: id: 'doc-2024-betaalbaarheid<U+00A0>' has the wrong form", files=mod("themes", 0, id="doc-2024-betaalbaarheid\u00a0"))
case("invisible-zero-width-space-in-key", "csv/agreements.csv:3: document_id: invisible character U+200B", files=mod("agreements", 1, document_id="doc-2024\u200b"))
case("fk-nbsp", "csv/agreements.csv:3: document_id: 'doc-2024<U+00A0>' does not exist in csv/documents.csv", files=mod("agreements", 1, document_id="doc-2024\u00a0"))
case("header-zero-width-space", "csv/sources.csv:1: id<U+200B>: unknown column 'id<U+200B>'", raw={"sources": text("sources").replace("id,", "id\u200b,", 1).encode()})
case("enum-nbsp", "csv/coverage.csv:2: status: 'ontbreekt<U+00A0>' is not an allowed value", files=mod("coverage", 0, status="ontbreekt\u00a0"))
# --- web addresses: only http(s) with a host (they become links on the site)
case("url-javascript", "csv/sources.csv:2: url: 'javascript:alert(document.cookie)' is a javascript: address", files=mod("sources", 0, url="javascript:alert(document.cookie)"))
case("url-javascript-mixed-case", "csv/sources.csv:3: url: is a javascript: address", files=mod("sources", 1, url="JaVaScRiPt:alert(1)"))
case("url-javascript-tab", "csv/partners.csv:2: website: 'java<U+0009>script:alert(1)' is not a web address", files=mod("partners", 0, website="java\tscript:alert(1)"))
case("url-data-html", "csv/partners.csv:2: website: is a data: address", files=mod("partners", 0, website="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="))
case("url-file", "csv/sources.csv:2: url: 'file:///etc/passwd' is a file: address", files=mod("sources", 0, url="file:///etc/passwd"))
case("url-ftp", "csv/sources.csv:3: url: is a ftp: address", files=mod("sources", 1, url="ftp://example.org/afspraken.pdf"))
case("url-no-host", "csv/sources.csv:2: url: 'https:///afspraken' has no host name", files=mod("sources", 0, url="https:///afspraken"))
case("url-credentials", "csv/sources.csv:2: url: holds a user name or password", files=mod("sources", 0, url="https://gebruiker:geheim@example.org/afspraken"))
case("url-quote-breaks-attribute", "csv/sources.csv:3: url: contains '\"' at position 21", files=mod("sources", 1, url='https://example.org/"onmouseover=alert(1)'))
case("url-bad-port", "csv/sources.csv:2: url: has a port that is not a number", files=mod("sources", 0, url="https://example.org:http/x"))
# --- numbers the database cannot store as written
case("number-infinity", "csv/specifications.csv:2: value: 'Infinity' is not a finite number", files=mod("specifications", 0, value="Infinity"))
case("number-nan", "csv/places.csv:2: latitude: 'NaN' is not a finite number", files=mod("places", 0, latitude="NaN"))
case("number-1e400", "csv/specifications.csv:3: value: '1e400' is too large for the database", files=mod("specifications", 1, value="1e400"))
case("number-1e-400", "csv/specifications.csv:3: value: '1e-400' has more digits than the database keeps: it would be stored as 0.0", files=mod("specifications", 1, value="1e-400"))
case("number-too-many-digits", "csv/specifications.csv:3: value: '907.7100000000000000001' has more digits than the database keeps", files=mod("specifications", 1, value="907.7100000000000000001"))
case("number-huge-integer", "csv/specifications.csv:2: value: '123456789012345678901234567890' is too large", files=mod("specifications", 0, value="123456789012345678901234567890"))
case("number-underscore", "csv/specifications.csv:2: value: '5_600' is not written as a plain number", files=mod("specifications", 0, value="5_600"))
case("number-fullwidth-digits", "csv/specifications.csv:2: value: '\uff15\uff14\uff17' is not written as a plain number", files=mod("specifications", 0, value="\uff15\uff14\uff17"))
case("number-plus-sign", "csv/places.csv:2: longitude: '+6.6' is not written as a plain number", files=mod("places", 0, longitude="+6.6"))
case("integer-huge", "csv/projects.csv:2: homes: '99999999999999999999' is too large", files=mod("projects", 0, homes="99999999999999999999"))
case("integer-fullwidth-digits", "csv/documents.csv:2: period_start: '\uff12\uff10\uff12\uff14' is not written as a plain whole number", files=mod("documents", 0, period_start="\uff12\uff10\uff12\uff14"))
case("integer-arabic-indic-digits", "csv/themes.csv:2: priority_rank: '\u0661' is not written as a plain whole number", files=mod("themes", 0, priority_rank="\u0661"))
case("integer-trailing-newline", "csv/documents.csv:3: period_end: '2023<U+000A>' is not written as a plain whole number", files=mod("documents", 1, period_end="2023\n"))
case("integer-underscore", "csv/projects.csv:2: homes: '1_0' is not written as a plain whole number", files=mod("projects", 0, homes="1_0"))
# --- dates: the years datapackage.yaml allows (partialDateYears), and nothing else
case("year-zero", "csv/sources.csv:2: published_on: '0000': year 0000 is outside 1800-2100", files=mod("sources", 0, published_on="0000"))
case("year-1799", "csv/agreements.csv:2: period_start: year 1799 is outside 1800-2100", files=mod("agreements", 0, period_start="1799-12"))
case("year-2101", "csv/projects.csv:2: delivered_on: year 2101 is outside 1800-2100", files=mod("projects", 0, delivered_on="2101"))
case("year-9999-full-date", "csv/documents.csv:2: published_on: year 9999 is outside", files=mod("documents", 0, published_on="9999-12-31"))
case("date-letters-for-month", "csv/sources.csv:3: published_on: '2024-ab' is not a date", files=mod("sources", 1, published_on="2024-ab"))
case("date-day-zero", "csv/sources.csv:2: published_on: '2024-02-00' is not a date that exists", files=mod("sources", 0, published_on="2024-02-00"))
case("date-trailing-newline", "csv/partners.csv:2: started_on: '2019-01-01<U+000A>' is not a date", files=mod("partners", 0, started_on="2019-01-01\n"))
case("date-fullwidth-digits", "csv/projects.csv:2: announced_on: is not a date", files=mod("projects", 0, announced_on="\uff12\uff10\uff12\uff13"))
# --- what is in place of a CSV: only regular files inside the repository are read
case("file-directory", "csv/themes.csv:1: (file): is a directory, not a file", special={"themes": ("dir", "")})
case("file-fifo", "csv/sources.csv:1: (file): is a named pipe (FIFO), not a file", special={"sources": ("fifo", "")})
case("file-symlink-dev-zero", "csv/documents.csv:1: (file): leads outside the repository (to /dev/zero)", special={"documents": ("symlink", "/dev/zero")})
case("file-symlink-outside", "csv/agreements.csv:1: (file): leads outside the repository", special={"agreements": ("symlink", "{outside}")})
case("file-symlink-loop", "csv/coverage.csv:1: (file): is a symbolic link that loops", special={"coverage": ("symlink", "coverage.csv")})
case("file-symlink-dangling", "csv/places.csv:1: (file): file is missing", special={"places": ("symlink", "places-weg.csv")})
case("file-unreadable", "csv/partners.csv:1: (file): cannot be read: permission denied", special={"partners": ("unreadable", "")})
case("file-oversize", "csv/specifications.csv:1: (file): bytes, more than the", special={"specifications": ("oversize", "")})
case("cell-beyond-csv-field-limit", "csv/themes.csv:2: (row): a cell is longer than 131,072 characters", raw={"themes": (text("themes").replace("Betaalbaar wonen.", "x" * 131_100)).encode()})
# --- encodings that cannot be proven: never converted as a whole
case("encoding-mixed-utf8-and-cp1252", "csv/partners.csv:2: byte 25: the file mixes two encodings", raw={"partners": render("partners", [dict(base["partners"][0], name="Gemeente T\x00st", summary_nl="Gemeente met één naam.")] + base["partners"][1:]).encode().replace(b"\x00", b"\xeb")})
case("encoding-mac-roman", "csv/themes.csv:2: byte 60: byte 0x8F is neither UTF-8 nor Windows-1252 (in Mac Roman it is '\u00e8')", raw={"themes": render("themes", [dict(base["themes"][0], name_nl="Betaalbaarh\u00e8id")] + base["themes"][1:]).encode("mac_roman")})

for name, expected, files, raw, delete, special in cases:
    d = OUT / name / "csv"
    d.mkdir(parents=True)
    for t, rows in files.items():
        (d / f"{t}.csv").write_text(render(t, rows), encoding="utf-8")
    for t, data in raw.items():
        (d / f"{t}.csv").write_bytes(data)
    for t in delete:
        (d / f"{t}.csv.delete").write_text("")
    for t, (kind, content) in special.items():
        (d / f"{t}.csv.{kind}").write_text(content, encoding="utf-8")
    (OUT / name / "expected.txt").write_text(expected + "\n", encoding="utf-8")
print(len(cases), "cases")
