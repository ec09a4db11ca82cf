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
select p.name as partner, ap.role, d.title as document, d.period_start as year,
       t.name_nl as theme, a.kind, a.title_nl, a.summary_nl, a.title_en,
       (select group_concat(o.name, '; ') from agreement_partners x join partners o on o.id = x.partner_id
         where x.agreement_id = a.id and x.partner_id <> p.id) as shared_with,
       a.responsible_as_stated, s.publisher as source_publisher, s.url as source_url, a.id as agreement_id
from agreement_partners ap
join partners p on p.id = ap.partner_id
join agreements a on a.id = ap.agreement_id
join documents d on d.id = a.document_id
left join themes t on t.id = a.theme_id
join sources s on s.id = a.source_id
where ap.partner_id in (select id from partners where :partner = '' or id = :partner
                        or name like '%' || :partner || '%' or short_name like '%' || :partner || '%')
order by p.name, d.period_start desc, a.id
