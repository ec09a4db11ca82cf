-- title: Wat een corporatie toezegde, per gemeente / What one corporation committed to, per municipality
-- description: Voor een woningcorporatie (vul de sleutel of een deel van de naam in, bijv. woonzorg of lefier) per gemeente
--   de documenten die zij tekende of waaraan zij meedeed, en de afspraken waarvoor zij verantwoordelijk is of waarbij
--   zij betrokken is, met de bron. Ontbreekt een gemeente of jaar, dan noemt geen bron het. — For one housing corporation
--   (enter its key or part of its name), per municipality the documents it signed or took part in and the agreements
--   it is responsible for or involved in, with the source. A missing municipality or year means no source names it.
-- params:
-- - partner
-- - municipality
-- labels:
--   level: Niveau
--   agreement_summary_nl: Samenvatting van de afspraak
with corporations as (
  select id from partners where kind = 'woningcorporatie' and id in (${partner_ids})
)
-- SQLite plans a question once for every value of its parameters, so the agreements have two ways in, each chosen
-- by a condition on the parameters alone (the other is skipped): the agreements of the documents of one
-- municipality; or, for every municipality, the corporations in name order (the index on kind and name), each with
-- its agreements, so a page of national data reads its first rows and stops instead of sorting every corporation's
-- agreements. CROSS JOIN keeps SQLite to that order; `+` keeps it from reading a corporation's agreements first.
select o.municipality, o.year, o.partner as corporation, 'document' as level, o.role, o.document,
       null as agreement, null as agreement_summary_nl, null as responsible_as_stated, o.notes,
       o.source_publisher, o.source_date, o.source_url, o.document_id, null as agreement_id
from document_partners_overview o
where o.partner_id in corporations and (:municipality = '' or ${municipality_matches})
union all
select a.municipality, a.year, c.name, 'afspraak / agreement', ap.role, a.document, a.title_nl,
       a.summary_nl, a.responsible_as_stated, ap.notes,
       a.source_publisher, a.source_date, a.source_url, a.document_id, a.agreement_id
from agreements_overview a
cross join agreement_partners ap on ap.agreement_id = a.agreement_id
cross join partners c on c.id = ap.partner_id
where :municipality <> '' and ${municipality_matches} and +ap.partner_id in corporations
union all
select a.municipality, a.year, c.name, 'afspraak / agreement', ap.role, a.document, a.title_nl,
       a.summary_nl, a.responsible_as_stated, ap.notes,
       a.source_publisher, a.source_date, a.source_url, a.document_id, a.agreement_id
from partners c
cross join agreement_partners ap on ap.partner_id = c.id
cross join agreements_overview a on a.agreement_id = ap.agreement_id
where :municipality = '' and c.kind = 'woningcorporatie' and +c.id in corporations
order by corporation, municipality, year, document_id, level, agreement_id
