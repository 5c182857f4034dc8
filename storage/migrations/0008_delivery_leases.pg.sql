-- Delivery leases with a fence (see 0008_delivery_leases.sql).
ALTER TABLE deliveries ADD COLUMN lease_owner text;
ALTER TABLE deliveries ADD COLUMN lease_until double precision;
ALTER TABLE deliveries ADD COLUMN fence integer NOT NULL DEFAULT 0;
