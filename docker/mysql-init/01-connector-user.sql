-- The user Tide's sync jobs connect as: read access plus the two replication grants.
CREATE USER 'tide_cdc'@'%' IDENTIFIED BY 'tide_cdc_pw';
-- RELOAD: MySQL has no lock-free snapshot position, so Tide pins it under a brief FLUSH TABLES WITH READ LOCK.
GRANT SELECT, RELOAD, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'tide_cdc'@'%';
CREATE TABLE shop.orders (
  id BIGINT PRIMARY KEY AUTO_INCREMENT,
  customer VARCHAR(100) NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  status VARCHAR(20) NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
);
INSERT INTO shop.orders (customer, amount, status) VALUES ('Ada', 42.50, 'paid'), ('Grace', 17.00, 'new');
