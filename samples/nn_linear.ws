# nn.Linear(2, 1) with MSELoss (mean) on x = [[1, 2], [3, 4]], y = [[3], [7]] (the PyTorch
# backward() tutorial), from W = [[0.5, 0.5]], b = [0]: y_pred = x W^T + b = [[1.5], [3.5]],
# dloss/dW = [[-12, -17]], dloss/db = [-5].
param W = [[0.5, 0.5]]
param b = [0]
data  x = [[1, 2], [3, 4]]
data  y = [[3], [7]]
y_pred = x @ W.T + b
loss = mse(y_pred, y)
