# Exercise: a quadratic model y_hat = w1·x² + w2·x + b with squared error.
# At x = 2, y = 4 with w1 = w2 = 1, b = 0: y_hat = 6, and
# dloss/dw1 = 2(y_hat - y)·x² = 16, dloss/dw2 = 2(y_hat - y)·x = 8, dloss/db = 4.
param w1 = 1
param w2 = 1
param b  = 0
data  x = 2
data  y = 4
y_hat = w1*x**2 + w2*x + b
loss = (y_hat - y)**2
