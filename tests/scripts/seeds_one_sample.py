import torch

# 一个样本的线性模型 y_pred = w * x + b
x = torch.tensor(2.0)
y_true = torch.tensor(4.0)
w = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)

optimizer = torch.optim.SGD([w, b], lr=0.1)

for step in range(100):
    y_pred = w * x + b
    loss = (y_pred - y_true) ** 2
    optimizer.zero_grad()  # 清零梯度，否则梯度会累加
    loss.backward()
    optimizer.step()

print(w.item(), b.item())
