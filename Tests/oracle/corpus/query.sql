select o.id, c.name, sum(i.qty * i.price) as total from orders o join customers c on c.id = o.customer_id
left join items i on i.order_id = o.id where o.paid = true and c.tier in ('gold', 'silver') group by o.id, c.name
having sum(i.qty) > 2 order by total desc limit 10;
insert into audit (who, what) values ('pode', 'ran a query');
