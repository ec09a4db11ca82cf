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
  select * from partners
  where kind = 'woningcorporatie' and id in (${partner_ids})
)
select * from (
  select municipality, year, partner as corporation, 'document' as level, role, document,
         null as agreement, null as agreement_summary_nl, null as responsible_as_stated, notes,
         source_publisher, source_date, source_url, document_id, null as agreement_id
  from document_partners_overview
  where partner_id in (select id from corporations)
  union all
  select a.municipality, a.year, p.name, 'afspraak / agreement', ap.role, a.document, a.title_nl,
         a.summary_nl, a.responsible_as_stated, ap.notes,
         a.source_publisher, a.source_date, a.source_url, a.document_id, a.agreement_id
  from agreement_partners ap
  join corporations p on p.id = ap.partner_id
  join agreements_overview a on a.agreement_id = ap.agreement_id
)
where :municipality = '' or ${municipality_matches}
order by corporation, municipality, year, document_id, level, agreement_id
