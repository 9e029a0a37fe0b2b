<!-- title: Liên hệ -->
<h2>Liên hệ</h2>
<p>Sở Tư pháp tỉnh Quảng Bình. Địa chỉ: 02 Hương Giang, TP. Đồng Hới. Điện thoại: (0232) 3822 545. Fax: (0232) 3822 546. Email: stp@quangbinh.gov.vn</p>
