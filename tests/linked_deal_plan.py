"""A plan that reads a collection's deal (`collection.deal.product`) and one payee: the
fixture of this round's tests of references to deals that are rejected, cut or not read."""

PLAN = """plan "t" {
  currency CNY
  period quarter
}

metric x_cash: money =
  sum collection.amount where collection.deal.product == "X" and collection.received_on in period
payout c: money = x_cash * 1%
"""
PAYEES = "id,name,role,region,manager\nann,Ann,AE,east,\n"
