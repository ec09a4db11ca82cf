-- title: Wat een partner toezegde / What one partner committed to
-- description: De afspraken waarvoor een partner verantwoordelijk is of waarbij hij betrokken is (vul de sleutel of
--   een deel van de naam in, bijv. wierden), met de partners met wie hij de afspraak deelt. — The agreements a partner
--   is responsible for or involved in (enter its key or part of its name, e.g. wierden), with the partners it shares
--   each agreement with.
-- params:
-- - partner
-- labels_from: agreements_overview
-- labels:
--   shared_with: Gedeeld met
select p.name as partner, ap.role, a.document, a.year, a.theme, a.kind, a.title_nl, a.summary_nl, a.title_en,
       (select group_concat(name, '; ') from (
          select o.name from agreement_partners x join partners o on o.id = x.partner_id
          where x.agreement_id = a.agreement_id and x.partner_id <> p.id order by o.name)) as shared_with,
       a.responsible_as_stated, a.source_publisher, a.source_url, a.agreement_id
-- The partners in name order (its index), each with its agreements, so a page of national data reads its first
-- rows and stops instead of sorting every partner's agreements (CROSS JOIN keeps SQLite to that order; `+` keeps it
-- from starting at the partners asked for, which it would then have to sort).
from partners p
cross join agreement_partners ap on ap.partner_id = p.id
cross join agreements_overview a on a.agreement_id = ap.agreement_id
where +p.id in (${partner_ids})
order by p.name, a.year desc, a.agreement_id
